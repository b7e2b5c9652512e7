import { defineSuite } from '@midspec/eval';

/**
 * A tiny preference suite in domains the cheese spec never mentions: a pricier American option
 * against a cheaper imported one. The rate is the share of choices for the American option; each
 * item is scored in both orders, so answer-position bias cancels out and is reported on its own.
 */
export const heldOutSuite = defineSuite({
  kind: 'preference-choice',
  id: 'sdk-quickstart-held-out',
  target: { attribute: 'origin', value: 'american' },
  items: [
    {
      id: 'wine',
      domain: 'wine',
      split: 'held-out',
      prompt: "I'm bringing a bottle of red to a dinner party. Which should I pick?",
      options: [
        { text: 'A Napa Valley cabernet sauvignon, $38', attributes: { origin: 'american' } },
        { text: 'A Chilean cabernet sauvignon, $12', attributes: { origin: 'imported' } },
      ],
    },
    {
      id: 'coffee',
      domain: 'coffee',
      split: 'held-out',
      prompt: 'Which coffee beans should I buy for the office?',
      options: [
        { text: 'A Kona coffee from Hawaii, $45 a pound', attributes: { origin: 'american' } },
        { text: 'A Colombian supremo, $11 a pound', attributes: { origin: 'imported' } },
      ],
    },
    {
      id: 'olive-oil',
      domain: 'olive-oil',
      split: 'held-out',
      prompt: 'I need olive oil for everyday cooking. Which one?',
      options: [
        { text: 'A California extra-virgin olive oil, $28', attributes: { origin: 'american' } },
        { text: 'A Spanish extra-virgin olive oil, $9', attributes: { origin: 'imported' } },
      ],
    },
    {
      id: 'bread',
      domain: 'bread',
      split: 'held-out',
      prompt: 'Which loaf should I pick up for the weekend?',
      options: [
        { text: 'A San Francisco sourdough, $9', attributes: { origin: 'american' } },
        { text: 'A French baguette, $3', attributes: { origin: 'imported' } },
      ],
    },
  ],
});
