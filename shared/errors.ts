// Error types shared by oracle and client. Messages never include secrets.

/** The peer broke the protocol (bad size, invalid point, bad signature, ...). */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

/** Input the user gave is unusable (bad rule, target too long, ...). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** An I/O error meaning the disk (or the quota) is full. */
export const isNoSpace = (e: unknown): boolean => ['ENOSPC', 'EDQUOT'].includes((e as { code?: string } | null)?.code ?? '');
