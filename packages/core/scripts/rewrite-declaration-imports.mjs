// Rewrites relative `.ts` import specifiers in the emitted declaration files to `.js`.
//
// The sources import each other as "./X.ts" so that Node runs them directly. TypeScript's
// rewriteRelativeImportExtensions turns those into "./X.js" in the emitted JavaScript, but TypeScript 7.0.2
// leaves them as "./X.ts" in the .d.ts files. TypeScript still resolves such a specifier to the .d.ts file,
// but the specifier names a file that the published package does not contain.
import { readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"

const distDirectory = process.argv[2]
if (distDirectory === undefined) {
  console.error("Usage: node rewrite-declaration-imports.mjs DIST_DIRECTORY")
  process.exit(2)
}

// `from "./X.ts"`, `import("./X.ts")` and `import "./X.ts"`, with either quote, for relative paths only.
const relativeTsSpecifier = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.\.?\/[^"'\n]*?)\.ts\2/g

let rewrittenFiles = 0
for (const entry of readdirSync(distDirectory, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith(".d.ts")) continue
  const path = join(entry.parentPath, entry.name)
  const text = readFileSync(path, "utf8")
  const rewritten = text.replace(relativeTsSpecifier, (_match, keyword, quote, specifier) => {
    return `${keyword}${quote}${specifier}.js${quote}`
  })
  if (rewritten !== text) {
    writeFileSync(path, rewritten)
    rewrittenFiles++
  }
}
console.log(`Rewrote .ts import specifiers to .js in ${rewrittenFiles} declaration files under ${distDirectory}`)
