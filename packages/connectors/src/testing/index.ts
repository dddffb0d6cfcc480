export { defineConnectorContract, type ContractPeer, type ContractSetup, type ContractOptions, type PeerItem } from './contract-suite.js';
export { generatedDocument, bufferDocument, testDelivery } from './documents.js';
export { snapshotDirectory } from './peer-directory.js';
