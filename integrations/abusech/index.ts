export { urlhausSource } from './urlhaus/index.js';
export { threatfoxSource } from './threatfox/index.js';
export { malwarebazaarSource } from './malwarebazaar/index.js';
