import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { WaybillError } from '../errors.ts';
import { NAMESPACE_DNS, NAMESPACE_URL, NAMESPACE_WAYBILL, uuidV5 } from './uuid.ts';

test('RFC 9562 Appendix A.4 test vector: UUIDv5 of www.example.com in the DNS namespace', () => {
  assert.equal(uuidV5('www.example.com', NAMESPACE_DNS), '2ed6657d-e927-568b-95e1-2665a8aea6a2');
});

test('the waybill namespace is itself the UUIDv5 of its URL (cross-checked with python uuid.uuid5)', () => {
  assert.equal(uuidV5('https://waybill.dev/', NAMESPACE_URL), NAMESPACE_WAYBILL);
});

test('version and variant bits are set for any name', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (name) => {
      const u = uuidV5(name);
      assert.match(u, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.equal(uuidV5(name), u);
    }),
  );
});

test('string names are UTF-8 encoded and differ from each other', () => {
  assert.equal(uuidV5('é'), uuidV5(Buffer.from('é', 'utf8')));
  assert.notEqual(uuidV5('a'), uuidV5('b'));
});

test('a bad namespace is a WaybillError', () => {
  assert.throws(() => uuidV5('x', 'not-a-uuid'), WaybillError);
});
