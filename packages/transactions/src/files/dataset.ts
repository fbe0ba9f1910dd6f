import { resolve } from 'node:path';

/** The bundled copy of the whole Online Retail dataset (CC BY 4.0, see data/online-retail/README.md). */
export const BUNDLED_DATASET = resolve(__dirname, '../../../../data/online-retail/online-retail.csv.gz');
export const BUNDLED_SAMPLES = {
  kaggleHead: resolve(__dirname, '../../../../data/online-retail/samples/head-1071rows_kaggle-format_Kristina-A.csv'),
  spreadsheetTail: resolve(__dirname, '../../../../data/online-retail/samples/tail-41910rows_from-row500000_Ahmed-878.csv.gz'),
} as const;
