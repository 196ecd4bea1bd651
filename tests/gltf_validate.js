// Run the Khronos glTF validator (npm package gltf-validator) on one file; print its counts as JSON.
// Usage: NODE_PATH=<folder holding gltf-validator> node gltf_validate.js FILE
const fs = require('fs');
const validator = require('gltf-validator');
const file = process.argv[2];
validator.validateBytes(new Uint8Array(fs.readFileSync(file)), {maxIssues: 100}).then((report) => {
  const issues = report.issues;
  console.log(JSON.stringify({errors: issues.numErrors, warnings: issues.numWarnings, infos: issues.numInfos,
    messages: issues.messages.filter((m) => m.severity < 2).slice(0, 10)}));
}).catch((err) => { console.error(String(err)); process.exit(1); });
