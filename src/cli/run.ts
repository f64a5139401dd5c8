/** Process entry: runs the CLI and sets the exit code (never process.exit, so stdout drains first). */
import { main } from './main.ts';

process.exitCode = await main(process.argv);
