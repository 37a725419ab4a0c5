// Removes the `name` custom section (function and data names, for stack traces) from
// a .wasm file: a fifth of the Worker's bytes, not needed to run it. Panics still log
// their message and location (console_error_panic_hook). Run after worker-build:
//   node scripts/strip-names.mjs build/index_bg.wasm
// wasm-bindgen needs the other custom sections, so this runs on its output, not on
// rustc's (Cargo's `strip` would drop them too).
import fs from 'node:fs';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node scripts/strip-names.mjs <file.wasm>\n');
  process.exit(2);
}
const wasm = fs.readFileSync(file);
if (wasm.readUInt32LE(0) !== 0x6d736100) {
  process.stderr.write(`${file} is not a WebAssembly module\n`);
  process.exit(1);
}

/** An unsigned LEB128 at `at`: [value, the offset after it]. */
function leb(at) {
  let value = 0;
  let shift = 0;
  let byte;
  do {
    byte = wasm[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [value, at];
}

const kept = [wasm.subarray(0, 8)];
let at = 8;
let removed = 0;
while (at < wasm.length) {
  const [size, body] = leb(at + 1);
  const end = body + size;
  let isName = false;
  if (wasm[at] === 0) {
    const [length, name] = leb(body);
    isName = wasm.subarray(name, name + length).toString() === 'name';
  }
  if (isName) removed += end - at;
  else kept.push(wasm.subarray(at, end));
  at = end;
}
if (removed > 0) fs.writeFileSync(file, Buffer.concat(kept));
process.stdout.write(`strip-names: ${file}: ${removed} bytes of names removed, ${wasm.length - removed} left\n`);
