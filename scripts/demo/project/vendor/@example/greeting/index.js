const shout = require('@example/shout');
module.exports = (name, loud) => (loud ? shout : String)(`hello, ${name}`);
