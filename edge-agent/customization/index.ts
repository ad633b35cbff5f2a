/** Offline customization of clone images: the public surface for the agent's tasks. */
export { type AppliedChange, type ApplyArgs, type ApplyResult, applyCustomization } from './apply';
export * from './errors';
export type { CustomizationItem, FileItem, RegistryItem, ReplaceItem } from './items';
export { DEFAULT_REGEX_TIMEOUT_MS } from './regex';
export { type RollbackArgs, rollbackCustomization } from './rollback';
export { FileUndoStore, type UndoRecord, type UndoStore } from './undo-store';
