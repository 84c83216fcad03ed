/**
 * Loading the user's TypeScript modules inside a worker. A worker thread does not inherit the main
 * thread's module hooks (nor, from workerpool, a child process its flags), so tsx's loader is
 * registered here, once, before the first `.ts` module is imported.
 * @module
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { say } from '../messages.js';
import { flagsLoadTsx, resolveTsx } from '../util/tsx.js';

/** Whether a module URL names a TypeScript file. */
export function isTypeScript(url: string): boolean {
  return /\.[cm]?tsx?$/.test(new URL(url).pathname);
}

let registering: Promise<void> | undefined;

/**
 * Registers tsx's ESM and CommonJS loaders in this worker, found from parafor's own location or else
 * from the user's module. Registering where tsx is already active is harmless.
 *
 * @param moduleUrl - the TypeScript module about to be imported
 * @param method - the method's name, for the message when tsx is missing
 */
export function registerTypeScript(moduleUrl: string, method: string): Promise<void> {
  // A failed attempt is forgotten, so the next module tries again and reports its own error.
  return (registering ??= register(moduleUrl, method).catch((error: unknown) => {
    registering = undefined;
    throw error;
  }));
}

interface TsxApi {
  register(): unknown;
}

async function register(moduleUrl: string, method: string): Promise<void> {
  // A child process gets the parent's flags, tsx's loader among them when the parent ran with it: it
  // already loads TypeScript. (A worker thread runs no preload of its flags, so it always registers.)
  if (isMainThread && flagsLoadTsx()) return;
  const esm = resolveTsx('tsx/esm/api', moduleUrl);
  const cjs = resolveTsx('tsx/cjs/api', moduleUrl);
  if (esm === undefined || cjs === undefined) {
    throw new Error(
      say(
        method,
        `the method is defined in a TypeScript module (${fileURLToPath(moduleUrl)}). A worker loads it with tsx's ` +
          `loader, but the package \`tsx\` cannot be found from ${dirname(fileURLToPath(moduleUrl))}: install it ` +
          '(`npm install --save-dev tsx`), or compile to JavaScript and run the compiled files.',
      ),
    );
  }
  ((await import(esm)) as TsxApi).register();
  // `.ts` files in a CommonJS scope (no `"type": "module"`) are loaded through require().
  ((await import(cjs)) as TsxApi).register();
}
