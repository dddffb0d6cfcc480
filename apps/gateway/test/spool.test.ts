import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Spool } from '../src/spool/spool.js';
import type { MessageRecord } from '../src/spool/record.js';

const dir = mkdtempSync(join(tmpdir(), 'efa-spool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A received body in `incoming/` and its record, ready to be accepted or quarantined. */
function received(spool: Spool): { id: string; incoming: string; record: MessageRecord } {
  const id = spool.newId();
  const incoming = join(spool.dir, 'incoming', `${id}.bin`);
  writeFileSync(incoming, 'original bytes');
  const record: MessageRecord = {
    id,
    channel: 'osci',
    tenant: 't',
    receivedAt: new Date().toISOString(),
    size: 14,
    sha256: 'x',
    state: 'accepted',
    metadata: {},
    deliveries: {},
  };
  return { id, incoming, record };
}

async function accepted(spool: Spool): Promise<string> {
  const { id, incoming, record } = received(spool);
  await spool.accept(incoming, record, { contents: [], attachments: [] });
  return id;
}

describe('spool record updates', () => {
  it('keeps every update with its events as one appended journal write and reads the last complete record, also after a torn write', async () => {
    const spool = await new Spool(join(dir, 'a')).init();
    const id = await accepted(spool);
    expect((await spool.get(id))?.state).toBe('accepted');
    await spool.update(id, (r) => void (r.state = 'processing'), [{ stage: 'route', event: 'routed' }]);
    await spool.update(id, (r) => void (r.deliveries.x = { state: 'pending', attempts: 0 }));
    expect(await spool.get(id)).toMatchObject({ state: 'processing', deliveries: { x: { state: 'pending' } } });
    // The journal starts with the record as accepted (no meta.json), then holds the events and one record line per update.
    const messageDir = join(spool.dir, 'messages', id);
    expect(existsSync(join(messageDir, 'meta.json'))).toBe(false);
    const journal = () => readFileSync(join(messageDir, 'events.jsonl'), 'utf8').trim().split('\n');
    expect(JSON.parse(journal()[0]!).record.state).toBe('accepted');
    expect(journal().filter((l) => l.startsWith('{"record":'))).toHaveLength(3);
    expect((await spool.events(id)).map((e) => e.event)).toEqual(['routed']);
    expect(existsSync(join(messageDir, 'updates.jsonl'))).toBe(false);

    // A crash in the middle of an append leaves a torn last line: the record is the line before it, the events skip it.
    appendFileSync(join(messageDir, 'events.jsonl'), '{"record":{"id":"' + id + '","state":"deliv');
    expect((await spool.get(id))?.state).toBe('processing');
    expect((await spool.events(id)).map((e) => e.event)).toEqual(['routed']);
    // The next write closes the torn line first, so it is read back.
    await spool.event(id, { stage: 'receive', event: 'duplicate-received' });
    await spool.update(id, (r) => void (r.state = 'delivered'), [{ stage: 'deliver', event: 'delivered' }]);
    expect((await spool.get(id))?.state).toBe('delivered');
    expect((await spool.events(id)).map((e) => e.event)).toEqual(['routed', 'duplicate-received', 'delivered']);
    expect(await spool.listOpen()).not.toContain(id); // final state: no longer open
  });

  it('reads messages of spools written by earlier versions (record in meta.json, updates in updates.jsonl), until the next update', async () => {
    const spool = await new Spool(join(dir, 'legacy')).init();
    const id = await accepted(spool);
    const messageDir = join(spool.dir, 'messages', id);
    const before = (await spool.get(id))!;
    // The layout of earlier versions: the accepted record in meta.json, a journal of events only.
    writeFileSync(join(messageDir, 'meta.json'), JSON.stringify(before, null, 2));
    writeFileSync(join(messageDir, 'events.jsonl'), JSON.stringify({ at: new Date().toISOString(), stage: 'receive', event: 'received' }) + '\n');
    expect((await spool.get(id))?.state).toBe('accepted');
    writeFileSync(join(messageDir, 'updates.jsonl'), JSON.stringify({ ...before, state: 'processing' }) + '\n');
    expect((await spool.get(id))?.state).toBe('processing');
    const updated = await spool.update(id, (r) => void (r.state = 'delivered'), [{ stage: 'deliver', event: 'delivered' }]);
    expect(updated.state).toBe('delivered');
    expect((await spool.get(id))?.state).toBe('delivered');
    expect((await spool.events(id)).map((e) => e.event)).toEqual(['received', 'delivered']);
  });

  it('counts a message directory as stored only with a complete record (a store torn before its fsync is not)', async () => {
    const spool = await new Spool(join(dir, 'torn')).init();
    const id = await accepted(spool);
    const journal = join(spool.dir, 'messages', id, 'events.jsonl');
    expect(await spool.claim('t', 'm-torn', id)).toBe(id);
    expect(await spool.claim('t', 'm-torn', spool.newId())).toBe(id); // stored: the MessageId is taken
    writeFileSync(journal, readFileSync(journal, 'utf8').slice(0, 40)); // the first line torn
    expect(await spool.get(id)).toBeUndefined();
    const next = spool.newId();
    expect(await spool.claim('t', 'm-torn', next)).toBe(next); // nothing stored under the old claim: taken over
  });
});

describe('MessageId index entries', () => {
  it('are links to the spool id, claimed exclusively; entries of earlier versions (files) are still read', async () => {
    const spool = await new Spool(join(dir, 'claims')).init();
    expect(await spool.claim('bob', 'm-1', 'aaaa0000-0123456789abcdef')).toBe('aaaa0000-0123456789abcdef');
    const entry = join(spool.dir, 'index', 'bob', createHash('sha256').update('m-1').digest('hex'));
    expect(lstatSync(entry).isSymbolicLink()).toBe(true);
    expect(readlinkSync(entry)).toBe('aaaa0000-0123456789abcdef');
    // A second claim finds the owner (not stale: its body is being received).
    writeFileSync(join(spool.dir, 'incoming', 'aaaa0000-0123456789abcdef.bin'), '');
    expect(await spool.claim('bob', 'm-1', 'bbbb0000-0123456789abcdef', { deferSync: true })).toBe('aaaa0000-0123456789abcdef');
    expect(await spool.findByMessageId('bob', 'm-1')).toBe('aaaa0000-0123456789abcdef');
    // Release removes only one's own claim.
    await spool.release('bob', 'm-1', 'bbbb0000-0123456789abcdef');
    expect(await spool.findByMessageId('bob', 'm-1')).toBe('aaaa0000-0123456789abcdef');
    await spool.release('bob', 'm-1', 'aaaa0000-0123456789abcdef');
    expect(await spool.findByMessageId('bob', 'm-1')).toBeUndefined();

    const legacy = join(spool.dir, 'index', 'bob', createHash('sha256').update('m-2').digest('hex'));
    writeFileSync(legacy, 'cccc0000-0123456789abcdef retired');
    expect(await spool.findByMessageId('bob', 'm-2')).toBe('cccc0000-0123456789abcdef');
    expect(await spool.claim('bob', 'm-2', 'dddd0000-0123456789abcdef')).toBe('cccc0000-0123456789abcdef');
  });
});

describe('spool store failures', () => {
  it('removes a half-stored message directory and its open marker when storing fails before the record is written', async () => {
    const spool = await new Spool(join(dir, 'b')).init();
    // A record that cannot be serialised: the store fails after the directory was made and the body moved into it.
    const unserialisable = (r: MessageRecord) => ({ ...r, broken: 1n }) as unknown as MessageRecord;
    const { id, incoming, record } = received(spool);
    await expect(spool.accept(incoming, unserialisable(record), { contents: [], attachments: [] })).rejects.toThrow(/BigInt/);
    expect(existsSync(join(spool.dir, 'messages', id))).toBe(false);
    expect(await spool.listOpen()).not.toContain(id);
    expect(await spool.list()).not.toContain(id);

    const rejected = received(spool);
    await expect(spool.quarantine(rejected.incoming, unserialisable({ ...rejected.record, state: 'rejected' }))).rejects.toThrow(/BigInt/);
    expect(existsSync(join(spool.dir, 'quarantine', rejected.id))).toBe(false);
  });
});

describe('open markers', () => {
  it('are hard links to one empty file (no inode made or freed per message), which a restart adopts or removes when unused', async () => {
    const spoolDir = join(dir, 'markers');
    const spool = await new Spool(spoolDir).init();
    const ids = [await accepted(spool), await accepted(spool), await accepted(spool)];
    const open = join(spoolDir, 'open');
    const inode = (name: string) => statSync(join(open, name)).ino;
    const bases = () => readdirSync(open).filter((n) => n.startsWith('.marker-'));
    expect(bases()).toHaveLength(1);
    const base = bases()[0]!;
    expect(ids.map(inode)).toEqual(ids.map(() => inode(base)));
    expect(statSync(join(open, base)).nlink).toBe(4);
    expect(await spool.listOpen()).toEqual([...ids].sort());

    // A final state removes the marker (a link, not the file); a replay marks the message again.
    await spool.update(ids[0]!, (r) => void (r.state = 'delivered'));
    expect(await spool.listOpen()).toEqual([ids[1], ids[2]].sort());
    await spool.update(ids[0]!, (r) => void (r.state = 'processing'));
    expect(inode(ids[0]!)).toBe(inode(base));

    // The file removed behind the spool's back (an operator cleaning up): the next marker starts a new one.
    rmSync(join(open, base));
    const later = await accepted(spool);
    expect(bases()).toHaveLength(1);
    expect(bases()[0]).not.toBe(base);
    expect(inode(later)).toBe(inode(bases()[0]!));
    expect(await spool.listOpen()).toEqual([...ids, later].sort());

    // A restart adopts the file in use and removes files no marker links to.
    writeFileSync(join(open, '.marker-unused'), '');
    const restarted = await new Spool(spoolDir).init();
    expect(bases()).toEqual([bases().find((n) => n !== '.marker-unused')]);
    const afterRestart = await accepted(restarted);
    expect(inode(afterRestart)).toBe(inode(bases()[0]!));
    expect(await restarted.listOpen()).toEqual([...ids, later, afterRestart].sort());
  });
});
