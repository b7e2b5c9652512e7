// Node's JSON.parse does not always say where an error is (Node 20 often gives only a snippet), so a
// failed parse is scanned again here to find the offset and say what was expected.

export interface JsonSyntaxError {
  offset: number;
  message: string;
}

class Failure {
  constructor(
    readonly offset: number,
    readonly message: string,
  ) {}
}

export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  let at = 0;
  const fail = (message: string): never => {
    throw new Failure(at, message);
  };
  const describe = () => (at >= text.length ? 'end of input' : `'${text[at]}'`);
  const space = () => {
    while (at < text.length && ' \t\n\r'.includes(text[at] as string)) at++;
  };
  const literal = (word: string) => {
    if (text.startsWith(word, at)) at += word.length;
    else fail(`unexpected ${describe()}`);
  };
  const string = () => {
    at++;
    while (at < text.length && text[at] !== '"') {
      const code = text.charCodeAt(at);
      if (code < 0x20) fail('unescaped control character in string');
      if (text[at] === '\\') {
        at++;
        if (text[at] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(at + 1, at + 5))) fail('bad \\u escape');
          at += 4;
        } else if (!'"\\/bfnrt'.includes(text[at] ?? 'x')) fail('bad escape in string');
      }
      at++;
    }
    if (at >= text.length) fail('unterminated string');
    at++;
  };
  const number = () => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(at));
    if (!match) fail(`unexpected ${describe()}`);
    at += match?.[0].length ?? 0;
  };
  const value = (): void => {
    space();
    const char = text[at];
    if (char === '{') {
      at++;
      space();
      if (text[at] === '}') {
        at++;
        return;
      }
      for (;;) {
        space();
        if (text[at] !== '"')
          fail(`expected a property name in double quotes, found ${describe()}`);
        string();
        space();
        if (text[at] !== ':') fail(`expected ':' after property name, found ${describe()}`);
        at++;
        value();
        space();
        if (text[at] === ',') {
          at++;
          continue;
        }
        if (text[at] === '}') {
          at++;
          return;
        }
        fail(`expected ',' or '}', found ${describe()}`);
      }
    }
    if (char === '[') {
      at++;
      space();
      if (text[at] === ']') {
        at++;
        return;
      }
      for (;;) {
        value();
        space();
        if (text[at] === ',') {
          at++;
          continue;
        }
        if (text[at] === ']') {
          at++;
          return;
        }
        fail(`expected ',' or ']', found ${describe()}`);
      }
    }
    if (char === '"') string();
    else if (char === 't') literal('true');
    else if (char === 'f') literal('false');
    else if (char === 'n') literal('null');
    else if (char === '-' || (char !== undefined && char >= '0' && char <= '9')) number();
    else fail(`expected a value, found ${describe()}`);
  };
  try {
    value();
    space();
    if (at < text.length) fail(`unexpected ${describe()} after the end of the JSON value`);
    return undefined;
  } catch (error) {
    if (error instanceof Failure) return { offset: error.offset, message: error.message };
    throw error;
  }
}
