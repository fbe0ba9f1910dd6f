export * from './crawler';
export * from './job';
export * from './load';
export * from './service';
export * from './transform';
export * from './upload';
