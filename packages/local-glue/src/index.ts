export * from './crawler';
export * from './load';
export * from './transform';
