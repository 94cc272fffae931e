// Types of dev/nodeRed5.js: CommonJS JavaScript, since dev/test-all.js requires it with plain Node.js.

export const NODE_RED_5_DIR: string;
export const NODE_RED_5_PACKAGE: string;
export function packageVersion(dir: string): string | undefined;
export function nodeBinary(spec: string): string;
export function nodeVersion(binary: string): string;
export function nodeForNodeRed5(): string;
export function envFor(binary: string, env?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
export function installNodeRed5(binary: string, log?: (line: string) => void): boolean;
