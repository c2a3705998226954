import { runMcpService } from '@meshgate/service-kit';
import { shopping } from './server.js';

await runMcpService({ name: 'shopping-service', defaultPort: 3002, factory: shopping });
