import { describe, expect, it } from 'vitest';
import type { LintCode } from './lint-codes.js';
import { assertNoLintErrors, lintSpec } from './lint-spec.js';
import { parseSpec, validateSpecData } from './load-spec.js';
import { SpecError } from './spec-error.js';
import { minimalSpec } from './test-fixtures.js';

type Input = Record<string, unknown>;
type PrincipleInput = Record<string, unknown>;

function lint(change: (spec: Input, principles: PrincipleInput[]) => void) {
  const input = minimalSpec();
  change(input, input.principles as PrincipleInput[]);
  return lintSpec(validateSpecData(input));
}

function codes(change: (spec: Input, principles: PrincipleInput[]) => void): LintCode[] {
  return lint(change).map((diagnostic) => diagnostic.code);
}

const wellFormed = (id: string, extra: PrincipleInput = {}): PrincipleInput => ({
  id,
  statement: `Never send ${id} data to third parties.`,
  rationale: 'Privacy.',
  values: ['care'],
  examples: [{ kind: 'good', text: 'x' }],
  ...extra,
});

describe('lintSpec', () => {
  it('finds nothing in a well-formed spec', () => {
    expect(lint(() => {})).toEqual([]);
  });

  describe('errors', () => {
    it('duplicate-id for principles, values, entities and principals', () => {
      const found = lint((spec, principles) => {
        principles.push(wellFormed('P1'));
        spec.values = [
          ...(spec.values as unknown[]),
          { id: 'care', name: 'Again', explanation: 'x' },
        ];
        spec.entities = [
          { id: 'e', name: 'E' },
          { id: 'e', name: 'F' },
        ];
        spec.preamble = { principals: [{ id: 'user' }, { id: 'user' }] };
      }).filter((diagnostic) => diagnostic.code === 'duplicate-id');
      expect(found.map((diagnostic) => diagnostic.path.join('.'))).toEqual([
        'principles.1.id',
        'values.1.id',
        'entities.1.id',
        'preamble.principals.1.id',
      ]);
      expect(found[0]?.message).toBe('duplicate principle id "P1" (first used at principles[0])');
    });

    it('empty-statement', () => {
      expect(codes((_, [p]) => Object.assign(p ?? {}, { statement: '  \n' }))).toContain(
        'empty-statement',
      );
    });

    it('undefined-variable, once per name, with the path where it is used', () => {
      const found = lint((spec, [p]) => {
        Object.assign(p ?? {}, { statement: 'Never call {tool} or {tool} before noon.' });
        spec.title = 'About {other}';
      }).filter((diagnostic) => diagnostic.code === 'undefined-variable');
      expect(found.map((diagnostic) => [diagnostic.path.join('.'), diagnostic.message])).toEqual([
        ['title', 'undefined template variable {other}; declare it under variables'],
        [
          'principles.0.statement',
          'undefined template variable {tool}; declare it under variables',
        ],
      ]);
    });

    it('unknown-value', () => {
      expect(codes((_, [p]) => Object.assign(p ?? {}, { values: ['care', 'nope'] }))).toContain(
        'unknown-value',
      );
    });

    it('priority-unresolved: unknown principle in overrides or conflictsWith', () => {
      expect(codes((_, [p]) => Object.assign(p ?? {}, { overrides: ['P9'] }))).toContain(
        'priority-unresolved',
      );
      expect(codes((_, [p]) => Object.assign(p ?? {}, { conflictsWith: ['P9'] }))).toContain(
        'priority-unresolved',
      );
    });

    it('priority-unresolved: authority level not declared', () => {
      const found = lint((_, [p]) => Object.assign(p ?? {}, { authority: 'root' }));
      expect(found[0]).toMatchObject({ code: 'priority-unresolved' });
      expect(found[0]?.message).toContain('none declared');
    });

    it('priority-unresolved: a cycle', () => {
      const found = lint((_, principles) => {
        Object.assign(principles[0] ?? {}, { priority: 1 });
        principles.push(wellFormed('P2', { priority: 2, overrides: ['P3'] }));
        principles.push(wellFormed('P3', { overrides: ['P1'] }));
      });
      expect(found.map((diagnostic) => diagnostic.message)).toContain(
        'the priority order does not resolve: P1 > P2 > P3 > P1',
      );
    });
  });

  describe('warnings', () => {
    it('missing-rationale unless a rationale or an explained value is given', () => {
      expect(codes((_, [p]) => Object.assign(p ?? {}, { rationale: undefined }))).toEqual([]);
      expect(
        codes((_, [p]) => Object.assign(p ?? {}, { rationale: undefined, values: [] })),
      ).toEqual(['missing-rationale', 'unused-value']);
      expect(
        codes((spec, [p]) => {
          Object.assign(p ?? {}, { rationale: ' ' });
          spec.values = [{ id: 'care', name: 'Care' }];
        }),
      ).toEqual(['missing-rationale', 'value-unexplained']);
    });

    it('vague-guidance', () => {
      const vague = lint((_, [p]) =>
        Object.assign(p ?? {}, { statement: 'Act responsibly and appropriately.', examples: [] }),
      );
      expect(vague.map((diagnostic) => diagnostic.code)).toEqual(['vague-guidance', 'no-examples']);
      expect(vague[0]?.message).toContain('"appropriately", "responsibly"');
      expect(codes((_, [p]) => Object.assign(p ?? {}, { statement: 'Act responsibly.' }))).toEqual(
        [],
      );
    });

    it('unresolved-conflict for declared conflicts and for different values in one domain', () => {
      const declared = lint((_, principles) =>
        principles.push(wellFormed('P2', { conflictsWith: ['P1'] })),
      );
      expect(declared.map((diagnostic) => diagnostic.code)).toEqual(['unresolved-conflict']);
      expect(declared[0]?.message).toContain('P1 and P2 can conflict (declared in conflictsWith)');

      const byDomain = (extra: PrincipleInput) =>
        codes((spec, principles) => {
          spec.values = [
            { id: 'care', name: 'Care', explanation: 'x' },
            { id: 'speed', name: 'Speed', explanation: 'y' },
          ];
          Object.assign(principles[0] ?? {}, { domains: ['support'] });
          principles.push(wellFormed('P2', { values: ['speed'], domains: ['support'], ...extra }));
        });
      expect(byDomain({})).toEqual(['unresolved-conflict']);
      expect(byDomain({ priority: 1 })).toEqual(['unresolved-conflict']);
      expect(byDomain({ overrides: ['P1'] })).toEqual([]);
      expect(byDomain({ domains: ['billing'] })).toEqual([]);
      expect(byDomain({ values: ['care'] })).toEqual(['unused-value']);
    });

    it('unresolved-conflict is silenced by priorities on both, and by authority levels', () => {
      expect(
        codes((_, principles) => {
          Object.assign(principles[0] ?? {}, { priority: 1 });
          principles.push(wellFormed('P2', { conflictsWith: ['P1'], priority: 2 }));
        }),
      ).toEqual([]);
      expect(
        codes((spec, principles) => {
          spec.preamble = { authorityLevels: ['platform', 'user'] };
          Object.assign(principles[0] ?? {}, { authority: 'user' });
          principles.push(wellFormed('P2', { conflictsWith: ['P1'], authority: 'platform' }));
        }),
      ).toEqual([]);
    });

    it('no-examples', () => {
      expect(codes((_, [p]) => Object.assign(p ?? {}, { examples: [] }))).toEqual(['no-examples']);
    });

    it('unused-variable', () => {
      expect(codes((spec) => Object.assign(spec, { variables: { model_name: {} } }))).toEqual([
        'unused-variable',
      ]);
    });
  });

  it('gives each diagnostic its line and column when it has a locator, sorted by line', () => {
    const loaded = parseSpec(
      [
        'id: x',
        'title: X',
        'version: "1"',
        'principles:',
        '  - id: P1',
        '    statement: Be careful.',
        '',
      ].join('\n'),
      { format: 'yaml' },
    );
    const found = lintSpec(loaded.spec, { locate: loaded.locate });
    expect(found.map((d) => [d.code, d.line, d.column])).toEqual([
      ['missing-rationale', 5, 5],
      ['no-examples', 5, 5],
      ['vague-guidance', 6, 16],
    ]);
  });
});

describe('assertNoLintErrors', () => {
  it('passes warnings and throws on errors with every issue', () => {
    const spec = validateSpecData({
      ...minimalSpec(),
      principles: [
        { id: 'P1', statement: '' },
        { id: 'P1', statement: 'x' },
      ],
    });
    expect(() => assertNoLintErrors(validateSpecData(minimalSpec()))).not.toThrow();
    try {
      assertNoLintErrors(spec, { file: 'a.yaml' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SpecError);
      expect((error as SpecError).code).toBe('spec/lint-failed');
      expect((error as SpecError).issues).toHaveLength(2);
    }
  });
});
