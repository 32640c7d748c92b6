import { windowStoreName, type WindowDeclaration } from '../../shared/pipeline/windows.js';
import { CountWindowOperator } from './count-window-operator.js';
import { SessionWindowOperator } from './session-window-operator.js';
import { SlidingWindowOperator } from './sliding-window-operator.js';
import { TimeWindowOperator } from './time-window-operator.js';
import type { WarningSink, WindowOperator } from './window-operator.js';

/** The operator of a declared window named `name` (its store is {@link windowStoreName}). */
export function createWindowOperator(name: string, declaration: WindowDeclaration<never>, warn: WarningSink): WindowOperator {
  const store = windowStoreName(name, declaration);
  switch (declaration.type) {
    case 'tumbling':
    case 'hopping':
      return new TimeWindowOperator(store, declaration, warn);
    case 'sliding':
      return new SlidingWindowOperator(store, declaration, warn);
    case 'tumbling-count':
    case 'hopping-count':
      return new CountWindowOperator(store, declaration);
    case 'session':
      return new SessionWindowOperator(store, declaration, warn);
  }
}
