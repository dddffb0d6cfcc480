/**
 * Durable small-file primitives of the spool: the same ones the connectors use (synchronous open/write/close of
 * small files, fsync on the thread pool).
 */
export {
  appendDurably,
  EarlyFlush,
  fsyncDirectory as fsyncDir,
  fsyncFile,
  readSmallFile,
  writeNewFileSynced,
  writeSmallFileAtomically as writeDurably,
} from '@efa-gateway/connectors/fs';
