/** Free ports on 127.0.0.1: see dev/ports.ts. */
export * from '../../dev/ports';
