import { createRequire } from 'node:module';
import { EvaluationError } from './evaluation-error.js';

/**
 * Where onnxruntime-node is installed. It is an optional peer dependency: only the ONNX backend
 * needs it, and its install step downloads native parts (hundreds of MB, and CUDA parts that fail
 * offline), so a user who scores through a worker or an API never pays for it.
 */
export function resolveOnnxRuntime(
  resolve: (id: string) => string = createRequire(import.meta.url).resolve,
): string {
  try {
    return resolve('onnxruntime-node');
  } catch (error) {
    throw new EvaluationError({
      code: 'eval/onnxruntime-missing',
      message:
        'the ONNX backend needs onnxruntime-node, an optional peer dependency of @midspec/eval: run `npm install onnxruntime-node`',
      cause: error,
    });
  }
}
