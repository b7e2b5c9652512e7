import { describe, expect, it } from 'vitest';
import { EvaluationError } from './evaluation-error.js';
import { resolveOnnxRuntime } from './onnx-runtime.js';

describe('resolveOnnxRuntime', () => {
  it('finds the installed onnxruntime-node', () => {
    expect(resolveOnnxRuntime()).toMatch(/onnxruntime-node/);
  });

  it('names the install command when onnxruntime-node is missing', () => {
    const missing = () => {
      throw Object.assign(new Error("Cannot find module 'onnxruntime-node'"), {
        code: 'MODULE_NOT_FOUND',
      });
    };
    const error = (() => {
      try {
        resolveOnnxRuntime(missing);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(EvaluationError.isInstance(error)).toBe(true);
    expect((error as EvaluationError).code).toBe('eval/onnxruntime-missing');
    expect((error as Error).message).toContain('npm install onnxruntime-node');
  });
});
