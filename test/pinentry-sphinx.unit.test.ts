// The pure parts of pinentry-sphinx: the Assuan server session (sequences of
// gpg-agent lines → decisions), the answers it builds, the gpg-agent client
// transaction of `protect`, keygrips and the [pinentry] config section.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BadCheckDigit, ClientError, ConnectionError } from '../client/errors.js';
import { inquiryAnswer, keyinfoProtection, passwdFailure, Transaction, type Step } from '../pinentry-sphinx/agent.js';
import { pinentryConfig } from '../pinentry-sphinx/config.js';
import {
  CANCELLED,
  classify,
  decide,
  failureAnswer,
  initialSession,
  masterPasswordCommands,
  parseKeygrip,
  parseKeyInfo,
  passphraseLines,
  type Decision,
  type Session,
} from '../pinentry-sphinx/session.js';
import { parseLine, percentDecode } from '../client/assuan.js';

const GRIP = 'DC259B92BAC17619C509A5FE52A4EABE5DA5F3BF';

/** Feeds gpg-agent's lines; returns every decision and the last session. */
function feed(lines: string[], s: Session = initialSession()): { decisions: Decision[]; session: Session } {
  const decisions: Decision[] = [];
  for (const l of lines) {
    const r = decide(s, Buffer.from(l, 'latin1'));
    s = r.session;
    decisions.push(r.decision);
  }
  return { decisions, session: s };
}

test('keygrips: 40 hex digits, upper-cased; anything else is refused', () => {
  assert.is(parseKeygrip(GRIP.toLowerCase()), GRIP);
  assert.is(parseKeygrip(GRIP), GRIP);
  assert.is(parseKeygrip(GRIP.slice(1)), null);
  assert.is(parseKeygrip(GRIP + '0'), null);
  assert.is(parseKeygrip('G' + GRIP.slice(1)), null);
  assert.equal(parseKeyInfo(`n/${GRIP}`), { kind: 'n', grip: GRIP });
  assert.equal(parseKeyInfo(`s/${GRIP.toLowerCase()}`), { kind: 's', grip: GRIP });
  assert.is(parseKeyInfo('--clear'), null);
  assert.is(parseKeyInfo(`u/${GRIP}`), null);
  assert.is(parseKeyInfo(`n/${GRIP.slice(2)}`), null);
});

test('a key unlock: every command before GETPIN is relayed; GETPIN with a keygrip is ours to decide, with gpg-agent\'s description decoded', () => {
  const { decisions } = feed([
    'OPTION ttytype=xterm',
    'GETINFO pid',
    `SETKEYINFO n/${GRIP}`,
    'SETDESC Please enter the passphrase%0A%22T <t@example.org>%22',
    'SETPROMPT Passphrase:',
    'GETPIN',
  ]);
  assert.equal(decisions.slice(0, 5), Array(5).fill({ kind: 'relay', restore: [], end: false }));
  assert.equal(decisions[5], { kind: 'unlock', key: { kind: 'n', grip: GRIP }, description: 'Please enter the passphrase\n"T <t@example.org>"', restore: [] });
});

test('no keygrip, --clear, or a new passphrase (SETREPEAT): GETPIN is relayed; BYE ends', () => {
  assert.equal(feed(['SETDESC x', 'GETPIN']).decisions[1], { kind: 'relay', restore: [], end: false });
  assert.equal(feed([`SETKEYINFO n/${GRIP}`, 'SETKEYINFO --clear', 'GETPIN']).decisions[2]!.kind, 'relay');
  assert.equal(feed([`SETKEYINFO n/${GRIP}`, 'SETREPEAT', 'GETPIN']).decisions[2]!.kind, 'relay');
  assert.equal(feed(['CONFIRM']).decisions[0], { kind: 'relay', restore: [], end: false });
  assert.equal(feed(['BYE']).decisions[0], { kind: 'relay', restore: [], end: true });
  assert.equal(feed(['getpin']).decisions[0]!.kind, 'relay', 'without a key, lower case too');
  assert.equal(feed([`SETKEYINFO s/${GRIP}`, 'getpin']).decisions[1]!.kind, 'unlock', 'commands are case-insensitive');
});

test('after our own dialog (dirty), gpg-agent\'s keyinfo, description and prompt are restored byte for byte before anything else is relayed', () => {
  const first = feed([`SETKEYINFO n/${GRIP}`, 'SETDESC a%25b c', 'SETPROMPT Passphrase:', 'GETPIN']).session;
  const dirty = { ...first, dirty: true };
  const next = feed(['SETERROR Bad Passphrase (try 2 of 3)', 'GETPIN'], dirty);
  assert.equal(next.decisions[0], { kind: 'relay', restore: [`SETKEYINFO n/${GRIP}`, 'SETDESC a%25b c', 'SETPROMPT Passphrase:'], end: false });
  assert.equal(next.decisions[1]!.kind, 'unlock');
  assert.equal((next.decisions[1] as { restore: string[] }).restore, [], 'restored once');
  // GETPIN right after our dialog: the restore travels with the unlock decision (used if it is relayed)
  const direct = feed(['GETPIN'], dirty).decisions[0] as { kind: string; restore: string[] };
  assert.is(direct.restore.length, 3);
  // nothing set by gpg-agent: empty texts, keyinfo cleared
  assert.equal(feed(['CONFIRM'], { ...initialSession(), dirty: true }).decisions[0], { kind: 'relay', restore: ['SETKEYINFO --clear', 'SETDESC ', 'SETPROMPT '], end: false });
  // BYE: nothing is shown any more, nothing to restore
  assert.equal(feed(['BYE'], dirty).decisions[0], { kind: 'relay', restore: [], end: true });
  // RESET: the real pinentry forgets every text itself
  assert.equal(feed(['RESET', 'GETPIN'], dirty).decisions, [{ kind: 'relay', restore: [], end: false }, { kind: 'relay', restore: [], end: false }]);
});

test('restore keeps non-ASCII texts as gpg-agent sent them (UTF-8 bytes in, the same bytes out)', () => {
  const desc = 'Bitte die Passphrase f\u00fcr \u00abJ\u00fcrgen\u00bb eingeben';
  const asSent = Buffer.from(`SETDESC ${desc}`, 'utf8').toString('latin1'); // feed() turns lines into bytes as latin1
  const s = feed([`SETKEYINFO n/${GRIP}`, asSent, 'GETPIN']).session;
  const restore = feed(['CONFIRM'], { ...s, dirty: true }).decisions[0] as { restore: string[] };
  // the shell writes each line as UTF-8
  assert.equal(Buffer.from(restore.restore[1]!, 'utf8'), Buffer.from(`SETDESC ${desc}`, 'utf8'));
});

test('a quality bar or a generate button (a new passphrase) makes GETPIN gpg-agent\'s, even with a keygrip', () => {
  for (const cmd of ['SETQUALITYBAR', 'SETGENPIN Generate']) {
    const d = feed([`SETKEYINFO n/${GRIP}`, cmd, 'GETPIN']).decisions;
    assert.equal(d[2], { kind: 'relay', restore: [], end: false }, cmd);
  }
});

test('our master-password dialog: keyinfo cleared, escaped description naming the key and quoting gpg-agent, our prompt, GETPIN; a retry says why', () => {
  const cmds = masterPasswordCommands({ kind: 's', grip: GRIP }, 'line 1\nline 2 100%', 'gpg-agent');
  assert.is(cmds[0], 'SETKEYINFO --clear');
  assert.ok(cmds[1]!.startsWith('SETDESC Unlock the SSH key ' + GRIP));
  assert.not.match(cmds[1]!, /[\n\r]/);
  assert.match(percentDecode(Buffer.from(cmds[1]!.slice(8))).toString(), /gpg-agent asks:\nline 1\nline 2 100%$/);
  assert.equal(cmds.slice(2), ['SETPROMPT SPHINX master password:', 'GETPIN']);
  const retry = masterPasswordCommands({ kind: 'n', grip: GRIP }, '', 'gpg-agent', 2);
  assert.equal(retry.slice(3), ['SETERROR Wrong SPHINX master password (bad check digit); try 2 of 3', 'GETPIN']);
  assert.not.match(retry[1]!, /gpg-agent asks/, 'no quote when gpg-agent sent no description');
});

test('the passphrase for gpg-agent: %, CR, LF and controls percent-escaped; parseLine decodes it back exactly', () => {
  const pw = 'a%b\rc\nd\x01e f%25';
  const [d, ok] = passphraseLines(pw);
  assert.is(d, 'D a%25b%0Dc%0Ad%01e f%2525');
  assert.is(ok, 'OK');
  const back = parseLine(Buffer.from(d!));
  assert.ok(back.kind === 'D');
  assert.is(back.kind === 'D' && back.data.toString(), pw);
  assert.equal(inquiryAnswer(pw), ['D a%25b%0Dc%0Ad%01e f%2525', 'END']);
});

test('failures: cancel is exactly pinentry\'s ERR; the others carry gpg error codes gpg prints, and a message for the user', () => {
  assert.is(CANCELLED, 'ERR 83886179 Operation cancelled <Pinentry>');
  assert.equal(failureAnswer({ kind: 'cancelled' }), { message: null, err: CANCELLED });
  const bad = failureAnswer({ kind: 'bad-master-password' });
  assert.is(bad.err, 'ERR 83886091 Bad passphrase <Pinentry>');
  assert.match(bad.message!, /wrong SPHINX master password/);
  const net = failureAnswer({ kind: 'unreachable', why: 'cannot connect to 127.0.0.1:1\nsecond line' });
  assert.is(net.err, 'ERR 83886128 Network error <Pinentry>');
  assert.match(net.message!, /cannot reach the SPHINX oracle: cannot connect/);
  assert.is(failureAnswer({ kind: 'empty' }).err, 'ERR 83886257 No passphrase given <Pinentry>');
  assert.is(failureAnswer({ kind: 'failed', why: 'x' }).err, 'ERR 83886166 pinentry error <Pinentry>');
  assert.equal(classify(new BadCheckDigit()), { kind: 'bad-master-password' });
  assert.equal(classify(new ConnectionError('refused')), { kind: 'unreachable', why: 'refused' });
  assert.equal(classify(new ClientError('no masterkey at /x')), { kind: 'failed', why: 'no masterkey at /x' });
  assert.equal(classify(new TypeError('boom')), { kind: 'failed', why: 'unexpected failure (TypeError: boom)' });
});

const L = (s: string) => parseLine(Buffer.from(s));

test('protect\'s gpg-agent transaction: greeting, each command OK, INQUIREs asked for, statuses passed up, the first ERR ends it', () => {
  const t = new Transaction(['OPTION pinentry-mode=loopback', `PASSWD ${GRIP}`]);
  const steps: Step[] = [t.start()];
  for (const l of ['OK Pleased to meet you', 'OK', 'S INQUIRE_MAXLEN 255', 'INQUIRE PASSPHRASE', 'INQUIRE NEW_PASSPHRASE', 'OK']) steps.push(t.feed(L(l), l));
  assert.equal(steps, [
    { kind: 'wait' },
    { kind: 'send', line: 'OPTION pinentry-mode=loopback' },
    { kind: 'send', line: `PASSWD ${GRIP}` },
    { kind: 'status', text: 'S INQUIRE_MAXLEN 255' },
    { kind: 'inquire', keyword: 'PASSPHRASE' },
    { kind: 'inquire', keyword: 'NEW_PASSPHRASE' },
    { kind: 'done' },
  ]);
  const t2 = new Transaction([`PASSWD ${GRIP}`], true);
  assert.equal(t2.start(), { kind: 'send', line: `PASSWD ${GRIP}` });
  const e = t2.feed(L('ERR 67108875 Bad passphrase <GPG Agent>'), '');
  assert.equal(e, { kind: 'error', code: 11, text: 'Bad passphrase <GPG Agent>', command: 'PASSWD' });
  assert.match(passwdFailure(e as { code: number; text: string; command: string }), /refused the key's current passphrase/);
  assert.match(passwdFailure({ code: 27, text: 'Not found <GPG Agent>', command: 'KEYINFO' }), /no such secret key/);
  assert.match(passwdFailure({ code: 60, text: 'Not supported', command: 'PASSWD' }), /no-allow-loopback-pinentry/);
});

test('KEYINFO status: P protected, C clear, other keys ignored', () => {
  assert.is(keyinfoProtection(`S KEYINFO ${GRIP} D - - - P - - -`, GRIP), 'protected');
  assert.is(keyinfoProtection(`S KEYINFO ${GRIP} D - - - C - - -`, GRIP), 'clear');
  assert.is(keyinfoProtection(`S KEYINFO ${GRIP} D - - - - - - -`, GRIP), 'unknown');
  assert.is(keyinfoProtection(`S KEYINFO ${'0'.repeat(40)} D - - - P - - -`, GRIP), null);
});

test('[pinentry] config: defaults gpg-agent and pinentry on PATH; a path is expanded and made absolute', () => {
  assert.equal(pinentryConfig({}, '/home/u', '/cwd'), { host: 'gpg-agent', pinentry: 'pinentry' });
  assert.equal(pinentryConfig({ pinentry: { host: 'keys', pinentry: '~/bin/pin' } }, '/home/u', '/cwd'), { host: 'keys', pinentry: '/home/u/bin/pin' });
  assert.equal(pinentryConfig({ pinentry: { pinentry: 'bin/pin' } }, '/home/u', '/cwd').pinentry, '/cwd/bin/pin');
});

test.run();
