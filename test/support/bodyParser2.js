// Preloaded (node --require) into a Node-RED under test: its own require('body-parser'), for the admin API
// and the http in nodes, gets body-parser 2, the one Express 5 brings, as it will once Node-RED moves to
// Express 5. body-parser 2 honours no `_body` mark: it skips only a body already read, or a type it does not take.
'use strict';
const Module = require('node:module');
const path = require('node:path');

const BODY_PARSER_2 = require.resolve('body-parser-2');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  if (request === 'body-parser' && parent && parent.filename && parent.filename.split(path.sep).includes('@node-red')) return BODY_PARSER_2;
  return resolve.call(this, request, parent, ...rest);
};
