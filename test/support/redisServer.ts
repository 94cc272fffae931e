/** A real redis-server for the tests: see dev/redisServer.ts (npm start -- --redis uses it too). */
export * from '../../dev/redisServer';
