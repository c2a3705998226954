import { runMcpService } from '@meshgate/service-kit';
import { userDirectory } from './server.js';

await runMcpService({ name: 'user-service', defaultPort: 3003, factory: userDirectory });
