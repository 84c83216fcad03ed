/**
 * The benchmark page's generator runs: `bench/index.ts --quick --report --out <dir>` on the four
 * suites that draw the page's four charts (speed-up against concurrency, main-thread cost against
 * batch size, memory while streaming, and the bar chart of comparisons) writes a page with their
 * tables and the machine, and well-formed SVG charts with their marks, axes and legends, linked from
 * the page. The bench runs from its sources under tsx, as `npm run bench` does. About 15 s on 2 cores.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
// The bench runs from bench/*.ts whatever decorator mode this test was compiled in: run it once.
const legacy = fileURLToPath(import.meta.url).includes('/legacy/');

/** Runs the bench CLI with `args`; resolves with its exit code and output. */
function bench(args: readonly string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/index.ts', ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/**
 * The first thing wrong with `text` as XML (tags that do not nest, a stray `<` or `&`), or
 * undefined: a well-formedness check of what an SVG renderer would refuse.
 */
function xmlProblem(text: string): string | undefined {
  const body = text.replace(/<!--[\s\S]*?-->/g, '').replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, '');
  const open: string[] = [];
  const tag = /<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/y;
  let at = 0;
  while (at < body.length) {
    const lt = body.indexOf('<', at);
    const text = body.slice(at, lt === -1 ? undefined : lt);
    if (/&(?!(?:[a-zA-Z]+|#\d+|#x[\da-fA-F]+);)/.test(text))
      return `a bare & near ${JSON.stringify(text.slice(0, 40))}`;
    if (lt === -1) break;
    tag.lastIndex = lt;
    const match = tag.exec(body);
    if (match === null) return `a malformed tag at ${JSON.stringify(body.slice(lt, lt + 40))}`;
    const [all, closing, name = '', , selfClosing] = match;
    if (closing === '/') {
      if (open.pop() !== name) return `</${name}> closes nothing open`;
    } else if (selfClosing !== '/') {
      open.push(name);
    }
    at = lt + all.length;
  }
  return open.length === 0 ? undefined : `<${open.join('>, <')}> never closed`;
}

/** The suites run: between them they draw every chart of the page. */
const SUITES = ['main-thread', 'thread-throughput', 'cpu', 'stream-memory'];

/** What each chart must hold: its kind of mark, how many of them, and texts (axes, legends, labels). */
interface ChartMarks {
  /** `aria-roledescription` of the data marks, and how many there are. */
  readonly marks: readonly (readonly [role: string, count: number])[];
  readonly texts: readonly string[];
}

// The concurrency sweep goes from 1 to the cores + 2, a measured and an ideal point at each.
const SWEEP_POINTS = 2 * (availableParallelism() + 2);

const CHARTS: Record<string, ChartMarks> = {
  'benchmarks/main-thread-batch.svg': {
    marks: [['line mark', 1]],
    texts: ['mark-line', 'mark-symbol', 'batch size', 'main thread CPU per shard'],
  },
  'benchmarks/speedup-concurrency.svg': {
    marks: [
      ['line mark', 2],
      ['point', SWEEP_POINTS],
    ],
    texts: ['concurrency (workers)', 'speed-up over the sequential loop', "parafor 'worker' (measured)", 'ideal on '],
  },
  'benchmarks/stream-memory.svg': {
    // The quick run's two sizes, for the stream and the array.
    marks: [
      ['line mark', 2],
      ['point', 4],
    ],
    texts: ['shards (log scale)', 'peak RSS growth (MB)', 'parafor stream', 'eager Promise.all'],
  },
  'benchmarks/versus.svg': {
    marks: [['bar', 4]],
    texts: ['mark-rect', 'p-map: ', 'p-limit: ', 'piscina: ', 'workerpool: ', 'time parafor', 'as fast'],
  },
};

describe('npm run bench -- --quick --report', { skip: legacy && 'run once, from the standard build' }, () => {
  let out: string;
  let run: { code: number | null; output: string };
  let page: string;

  before(async () => {
    out = mkdtempSync(join(tmpdir(), 'parafor-bench-report-'));
    run = await bench(['--quick', '--only', SUITES.join(','), '--report', '--out', out]);
    page = existsSync(join(out, 'benchmarks.md')) ? readFileSync(join(out, 'benchmarks.md'), 'utf8') : '';
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  it('exits 0 and writes the page where --out says, not in docs/', () => {
    assert.equal(run.code, 0, run.output);
    assert.match(
      run.output,
      new RegExp(`== report\\n  ${join(out, 'benchmarks.md').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
    );
    assert.notEqual(page, '');
  });

  it('has the machine, the run and a table for each suite run', () => {
    assert.match(page, /^# Benchmarks$/m);
    assert.match(page, /^## Machine$/m);
    assert.match(page, /\| CPU +\| .+ cores available/);
    assert.match(page, /\| Node +\| v\d+\.\d+\.\d+/);
    assert.match(page, /\| parafor +\| src\/ /);
    assert.match(
      page,
      new RegExp(`Generated by \`npm run bench -- --quick --only ${SUITES.join(',')} --report --out `),
    );
    assert.match(page, /\*\*Quick run\*\*/);
    for (const suite of SUITES) assert.match(page, new RegExp(`^### ${suite}: `, 'm'));
    assert.doesNotMatch(page, /^### tiny: /m);
    assert.match(page, /\| measure +\| value +\| goal +\| verdict +\| detail +\|/);
    assert.match(page, /main thread CPU, the same from an async generator/);
    assert.match(page, /^## Goals$/m);
  });

  it('links each of the four charts, and each one is well-formed SVG with its marks, axes and legend', () => {
    const links = [...page.matchAll(/!\[[^\]]+\]\((benchmarks\/[\w-]+\.svg)\)/g)].map(([, link]) => link ?? '');
    assert.deepEqual(links.toSorted(), Object.keys(CHARTS).toSorted());
    for (const link of links) {
      const file = join(out, link);
      assert.ok(existsSync(file), `${link} was not written`);
      const svg = readFileSync(file, 'utf8');
      assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/, link);
      assert.equal(xmlProblem(svg), undefined, link);
      const { marks, texts } = CHARTS[link] ?? { marks: [], texts: [] };
      for (const text of texts) assert.ok(svg.includes(text), `${link}: ${text}`);
      for (const [role, count] of marks) {
        const drawn = svg.split(`aria-roledescription="${role}"`).length - 1;
        assert.equal(drawn, count, `${link}: ${drawn} marks '${role}', expected ${count}`);
      }
      // Every mark is drawn where its figure says: no figure was lost on the way.
      const labels = [...svg.matchAll(/aria-label="([^"]*)"/g)].map(([, label]) => label ?? '');
      assert.ok(labels.length > 0, `${link}: no labelled marks`);
      for (const label of labels) assert.doesNotMatch(label, /NaN|Infinity|undefined/, `${link}: ${label}`);
      assert.doesNotMatch(svg, /\bd="[^"]*NaN/, `${link}: a path with NaN`);
    }
  });

  it('the XML check itself finds what is wrong', () => {
    assert.equal(xmlProblem('<svg a="1"><g><path d="M0"/></g><text>x &amp; y</text></svg>'), undefined);
    assert.match(xmlProblem('<svg><g></svg>') ?? '', /closes nothing/);
    assert.match(xmlProblem('<svg><text>a & b</text></svg>') ?? '', /bare &/);
    assert.match(xmlProblem('<svg>') ?? '', /never closed/);
  });
});
