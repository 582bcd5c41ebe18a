// Reference side of the differential check: runs OTA's own extraction on cases
// read as JSON lines from stdin ({id, html, location, select, remove}) and writes
// one JSON line per case ({id, markdown} or {id, error}).
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';
import path from 'node:path';

const engineDir = process.env.OTA_ENGINE_DIR;
const require = createRequire(path.join(engineDir, 'package.json'));
const enginePath = require.resolve('@opentermsarchive/engine/extract');
const { default: extract } = await import(enginePath);

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  const testCase = JSON.parse(line);
  try {
    const markdown = await extract({
      location: testCase.location,
      content: testCase.html,
      contentSelectors: testCase.select,
      insignificantContentSelectors: testCase.remove ?? undefined,
      filters: [],
      mimeType: 'text/html',
    });
    process.stdout.write(JSON.stringify({ id: testCase.id, markdown }) + '\n');
  } catch (error) {
    process.stdout.write(JSON.stringify({ id: testCase.id, error: String(error.message) }) + '\n');
  }
}
