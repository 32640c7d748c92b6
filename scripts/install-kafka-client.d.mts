/** Types of install-kafka-client.mjs (for its test; the script itself is plain JS run by npm before the build). */
export declare const CLIENT_PACKAGE: string;
export declare const BUILD_COMMANDS: readonly string[];
export declare const DYNAMIC_LIBRARIES: readonly string[];
export declare const FIX_HINT: string;

export type Env = Record<string, string | undefined>;
export interface Probe {
  command(name: string): Promise<boolean>;
  pkgConfig(modules: readonly string[]): Promise<boolean>;
}
export interface Outcome {
  ok: boolean;
  detail: string;
}
export interface InstallEffects {
  env: Env;
  clientDir: string | undefined;
  loads(): Promise<Outcome>;
  nodePreGyp(args: readonly string[], env: Env): Promise<Outcome>;
  probe: Probe;
  log(line: string): void;
}
export interface InstallResult {
  result: 'present' | 'prebuilt' | 'built' | 'unavailable';
  linking?: 'dynamic' | 'static';
  missing?: string[];
}

export declare function chooseLinking(env: Env, systemLibraries: boolean): 'dynamic' | 'static';
export declare function missingPrerequisites(probe: Probe, linking: 'dynamic' | 'static'): Promise<string[]>;
export declare function installKafkaClient(effects: InstallEffects): Promise<InstallResult>;
export declare function systemEffects(root: string): InstallEffects;
export declare function exitCode(result: InstallResult, env: Env): 0 | 1;
export declare function failureCause(stderr: string): string;
