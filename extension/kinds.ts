/** A form kind the popup fills: login (user, password), signup (user, new password fields), change (old, new, new). */
export type FormKind = 'login' | 'signup' | 'change';
