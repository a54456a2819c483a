/**
 * The lake stand-in, driven by the real `@azure/storage-file-datalake` client: every behaviour
 * the archive code relies on, including the error codes the SDK's helpers look for.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataLakeFileSystemClient, Path as PathItem } from '@azure/storage-file-datalake';
import { startTempLake } from './lake-fixture';
import type { TempLake } from './lake-fixture';

interface RestErrorLike {
  statusCode?: number;
  code?: string;
  details?: { errorCode?: string };
}

async function failure(p: Promise<unknown>): Promise<{ status: number | undefined; code: string | undefined }> {
  try {
    await p;
  } catch (e) {
    const err = e as RestErrorLike;
    // Some operations' exception-header mappers drop x-ms-error-code; the body's code is always there.
    return { status: err.statusCode, code: err.details?.errorCode ?? err.code };
  }
  throw new Error('expected the call to fail');
}

async function readAll(fs: DataLakeFileSystemClient, name: string, offset = 0, count?: number): Promise<Buffer> {
  const res = await fs.getFileClient(name).read(offset, count);
  const chunks: Buffer[] = [];
  for await (const c of res.readableStreamBody ?? []) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

async function listAll(
  fs: DataLakeFileSystemClient,
  opts: { path?: string; recursive?: boolean },
  pageSize?: number,
): Promise<{ names: string[]; pages: number }> {
  const names: string[] = [];
  let pages = 0;
  for await (const page of fs.listPaths(opts).byPage(pageSize ? { maxPageSize: pageSize } : {})) {
    pages++;
    names.push(...(page.pathItems ?? []).map((p: PathItem) => p.name ?? ''));
  }
  return { names, pages };
}

describe('lake stand-in (dfs + blob API subset) with the real Data Lake client', () => {
  let lake: TempLake;
  let fs: DataLakeFileSystemClient;

  beforeAll(async () => {
    lake = await startTempLake('server');
    fs = lake.service.getFileSystemClient('capture');
  });

  afterAll(async () => {
    await lake?.dispose();
  });

  it('creates a file system once; a second create is a 409 and createIfNotExists reports it existed', async () => {
    expect(await fs.exists()).toBe(false);
    await fs.create();
    expect(await fs.exists()).toBe(true);
    expect(await failure(fs.create())).toEqual({ status: 409, code: 'ContainerAlreadyExists' });
    const again = await fs.createIfNotExists();
    expect(again.succeeded).toBe(false);
    const props = await fs.getProperties();
    expect(props.etag).toMatch(/^"0x/);
    expect(props.lastModified).toBeInstanceOf(Date);
    expect(props.requestId).toBeTruthy();
  });

  it('creates, appends, flushes and reads a file, whole and by range', async () => {
    const file = fs.getFileClient('a/b/c.bin');
    const created = await file.create();
    expect(created.etag).toBeTruthy();
    await file.append(Buffer.from('hello '), 0, 6);
    await file.append(Buffer.from('lake'), 6, 4);
    // Appended data is invisible until flushed.
    expect((await file.getProperties()).contentLength).toBe(0);
    const flushed = await file.flush(10);
    expect(flushed.etag).not.toBe(created.etag);

    expect((await readAll(fs, 'a/b/c.bin')).toString()).toBe('hello lake');
    expect((await readAll(fs, 'a/b/c.bin', 6)).toString()).toBe('lake');
    expect((await readAll(fs, 'a/b/c.bin', 2, 3)).toString()).toBe('llo');
    expect((await file.readToBuffer()).toString()).toBe('hello lake');

    const props = await file.getProperties();
    expect(props.contentLength).toBe(10);
    expect(props.etag).toBe(flushed.etag);
    expect(props.lastModified).toBeInstanceOf(Date);
    expect(await file.exists()).toBe(true);
    // Parent directories come into being with the file.
    expect(await fs.getDirectoryClient('a/b').exists()).toBe(true);
  });

  it('uploads with the high-level upload (create + append + flush) and appends more later', async () => {
    const file = fs.getFileClient('up/load.txt');
    await file.upload(Buffer.from('one,'));
    await file.append(Buffer.from('two'), 4, 3);
    await file.flush(7);
    expect((await file.readToBuffer()).toString()).toBe('one,two');
  });

  it('refuses a flush that is not contiguous with the appended data', async () => {
    const file = fs.getFileClient('gap.bin');
    await file.create();
    await file.append(Buffer.from('abc'), 0, 3);
    expect(await failure(file.flush(5))).toEqual({ status: 400, code: 'InvalidFlushPosition' });
    await file.flush(3);
    expect((await file.readToBuffer()).toString()).toBe('abc');
  });

  it('createIfNotExists on a path reports PathAlreadyExists as not created, and keeps the content', async () => {
    const file = fs.getFileClient('once.txt');
    expect((await file.createIfNotExists()).succeeded).toBe(true);
    await file.append(Buffer.from('x'), 0, 1);
    await file.flush(1);
    expect((await file.createIfNotExists()).succeeded).toBe(false);
    expect(await failure(file.create({ conditions: { ifNoneMatch: '*' } }))).toEqual({
      status: 409,
      code: 'PathAlreadyExists',
    });
    expect((await file.readToBuffer()).toString()).toBe('x');
    const dir = fs.getDirectoryClient('dirs/one');
    expect((await dir.createIfNotExists()).succeeded).toBe(true);
    expect((await dir.createIfNotExists()).succeeded).toBe(false);
  });

  it('lists paths recursively under a prefix, in depth-first name order, across continuation pages', async () => {
    const names = [
      'ns/hub/0/2026/01/01/00/00/00.avro',
      'ns/hub/0/2026/01/01/00/01/30.avro',
      'ns/hub/1/2026/01/01/00/00/10.avro',
      'ns/other/0/x.avro',
      'nsz.txt',
    ];
    for (const n of names) await fs.getFileClient(n).upload(Buffer.from(n));

    const expected = [
      'ns/hub/0',
      'ns/hub/0/2026',
      'ns/hub/0/2026/01',
      'ns/hub/0/2026/01/01',
      'ns/hub/0/2026/01/01/00',
      'ns/hub/0/2026/01/01/00/00',
      'ns/hub/0/2026/01/01/00/00/00.avro',
      'ns/hub/0/2026/01/01/00/01',
      'ns/hub/0/2026/01/01/00/01/30.avro',
      'ns/hub/1',
      'ns/hub/1/2026',
      'ns/hub/1/2026/01',
      'ns/hub/1/2026/01/01',
      'ns/hub/1/2026/01/01/00',
      'ns/hub/1/2026/01/01/00/00',
      'ns/hub/1/2026/01/01/00/00/10.avro',
    ];
    const onePage = await listAll(fs, { path: 'ns/hub', recursive: true });
    expect(onePage).toEqual({ names: expected, pages: 1 });
    const paged = await listAll(fs, { path: 'ns/hub', recursive: true }, 3);
    expect(paged.names).toEqual(expected);
    expect(paged.pages).toBe(6);

    const items: PathItem[] = [];
    for await (const p of fs.listPaths({ path: 'ns/hub/0/2026/01/01/00/01' })) items.push(p);
    expect(items).toHaveLength(1);
    expect(items[0]?.name).toBe('ns/hub/0/2026/01/01/00/01/30.avro');
    expect(items[0]?.isDirectory).toBeFalsy();
    expect(items[0]?.contentLength).toBe('ns/hub/0/2026/01/01/00/01/30.avro'.length);
    expect(items[0]?.lastModified).toBeInstanceOf(Date);
    expect(items[0]?.createdOn).toBeInstanceOf(Date);

    const top = await listAll(fs, { path: 'ns', recursive: false });
    expect(top.names).toEqual(['ns/hub', 'ns/other']);
    const dirs: PathItem[] = [];
    for await (const p of fs.listPaths({ path: 'ns' })) dirs.push(p);
    expect(dirs.every((d) => d.isDirectory === true)).toBe(true);
  });

  it('answers 404 for what does not exist, with the codes the service uses', async () => {
    const missing = fs.getFileClient('no/such/file');
    expect(await missing.exists()).toBe(false);
    expect(await failure(missing.getProperties())).toMatchObject({ status: 404 });
    expect(await failure(missing.read())).toEqual({ status: 404, code: 'BlobNotFound' });
    expect(await failure(missing.append(Buffer.from('x'), 0, 1))).toEqual({ status: 404, code: 'PathNotFound' });
    expect(await failure(missing.flush(0))).toEqual({ status: 404, code: 'PathNotFound' });
    expect(await failure(missing.delete())).toEqual({ status: 404, code: 'PathNotFound' });
    expect(await failure(listAll(fs, { path: 'no/such', recursive: true }))).toEqual({
      status: 404,
      code: 'PathNotFound',
    });
    const ghost = lake.service.getFileSystemClient('ghost');
    expect(await ghost.exists()).toBe(false);
    expect(await failure(ghost.getProperties())).toMatchObject({ status: 404 });
    expect(await failure(listAll(ghost, { recursive: true }))).toEqual({ status: 404, code: 'FilesystemNotFound' });
    expect(await failure(ghost.getFileClient('f').create())).toEqual({ status: 404, code: 'FilesystemNotFound' });
    expect(await failure(fs.getFileClient('once.txt').read(100))).toEqual({ status: 416, code: 'InvalidRange' });
  });

  it('deletes files, and directories only when recursive or empty', async () => {
    await fs.getFileClient('del/x/1.txt').upload(Buffer.from('1'));
    await fs.getFileClient('del/x/2.txt').upload(Buffer.from('2'));
    await fs.getFileClient('del/x/1.txt').delete();
    expect(await fs.getFileClient('del/x/1.txt').exists()).toBe(false);
    expect(await failure(fs.getDirectoryClient('del').delete(false))).toEqual({
      status: 409,
      code: 'DirectoryNotEmpty',
    });
    await fs.getDirectoryClient('del').delete(true);
    expect(await fs.getDirectoryClient('del').exists()).toBe(false);
    expect((await fs.getFileClient('del/x/2.txt').deleteIfExists()).succeeded).toBe(false);
  });

  it('keeps its data across a restart on the same directory', async () => {
    await fs.getFileClient('durable/keep.txt').upload(Buffer.from('still here'));
    await lake.restart();
    const after = lake.service.getFileSystemClient('capture');
    expect(await after.exists()).toBe(true);
    expect((await after.getFileClient('durable/keep.txt').readToBuffer()).toString()).toBe('still here');
    expect((await listAll(after, { path: 'durable', recursive: true })).names).toEqual(['durable/keep.txt']);
    fs = after;
  });

  it('refuses paths that would leave its directory', async () => {
    // Raw requests: a WHATWG URL (fetch) would normalise the dot segments away before sending.
    const put = (rawPath: string): Promise<{ status: number | undefined; code: string | string[] | undefined }> =>
      new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: lake.server.port, path: rawPath, method: 'PUT' }, (res) => {
          res.resume();
          resolve({ status: res.statusCode, code: res.headers['x-ms-error-code'] });
        });
        req.on('error', reject);
        req.end();
      });
    for (const bad of [
      'capture/../../escape.txt',
      'capture/%2E%2E/%2E%2E/escape.txt',
      'capture/a%2F..%2F..%2F..%2Fescape.txt',
    ]) {
      expect(await put(`/devstoreaccount1/${bad}?resource=file`)).toEqual({ status: 400, code: 'InvalidResourceName' });
    }
    expect(await put('/../capture/x?resource=file')).toEqual({ status: 400, code: 'InvalidUri' });
  });

  it('deletes a file system, after which it no longer exists', async () => {
    const tmp = lake.service.getFileSystemClient('scratch');
    await tmp.create();
    await tmp.getFileClient('f.txt').upload(Buffer.from('f'));
    await tmp.delete();
    expect(await tmp.exists()).toBe(false);
    expect((await tmp.createIfNotExists()).succeeded).toBe(true);
    expect((await listAll(tmp, { recursive: true })).names).toEqual([]);
  });
});
