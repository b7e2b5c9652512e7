/**
 * The published MSM recipe (arXiv 2605.02087): LoRA r 64, alpha 128, dropout 0 on every linear
 * projection; AdamW, peak learning rate 1e-4, cosine schedule with 5 % warm-up, weight decay 0.01;
 * one epoch per stage; sequences of 4096–8192 tokens. Values the paper does not state are marked.
 */
export const PUBLISHED_RECIPE = {
  lora: { r: 64, alpha: 128, dropout: 0, targetModules: ['all-linear'] },
  optimizer: {
    learningRate: 1e-4,
    weightDecay: 0.01,
    // Not stated in the paper: the usual AdamW values.
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-8,
    // Not stated in the paper: 0 leaves clipping off.
    maxGradNorm: 0,
  },
  schedule: { kind: 'cosine', warmupRatio: 0.05, minLrRatio: 0 },
  budget: { epochs: 1, maxTokens: 0, maxSteps: 0 },
  packing: { enabled: true, maxLength: 4096 },
  lossMask: { midtrain: 'all_tokens', sft: 'assistant_only' },
  // The published MSM→AFT setting: fine-tuning keeps training the midtraining adapter.
  continueAdapter: true,
} as const;
