import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeXmlText, MAX_POM_BYTES, pomLicenses } from './pom-licenses.ts';

/** As Debian's libjackson2-databind-java 2.14.0 ships it (META-INF/maven/…/pom.xml), shortened. */
const JACKSON_POM = `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 http://maven.apache.org/maven-v4_0_0.xsd">
	<modelVersion>4.0.0</modelVersion>
	<groupId>com.fasterxml.jackson.core</groupId>
	<artifactId>jackson-databind</artifactId>
	<version>2.14.0</version>
	<parent>
		<groupId>com.fasterxml.jackson</groupId>
		<artifactId>jackson-base</artifactId>
		<version>debian</version>
	</parent>
	<!-- <licenses><license><name>not this one</name></license></licenses> -->
	<name>jackson-databind</name>
	<url>https://github.com/FasterXML/jackson</url>
	<licenses>
		<license>
			<name>The Apache Software License, Version 2.0</name>
			<url>https://www.apache.org/licenses/LICENSE-2.0.txt</url>
			<distribution>repo</distribution>
		</license>
	</licenses>
	<dependencies>
		<dependency><groupId>x</groupId><artifactId>y</artifactId><name>not a license</name></dependency>
	</dependencies>
</project>
`;

test('a real POM: the project licenses, nothing from comments, the parent or dependencies', () => {
  assert.deepEqual(pomLicenses(JACKSON_POM), [
    {
      name: 'The Apache Software License, Version 2.0',
      url: 'https://www.apache.org/licenses/LICENSE-2.0.txt',
    },
  ]);
});

test('namespace prefixes, CDATA, entities and attributes with ">" are read; other entities are not expanded', () => {
  const xml = `<?xml version="1.0"?>
<!DOCTYPE project [ <!ENTITY lol "lollollol"> <!ENTITY ext SYSTEM "file:///etc/passwd"> ]>
<pom:project xmlns:pom="http://maven.apache.org/POM/4.0.0">
  <pom:licenses>
    <pom:license a="x>y"><pom:name><![CDATA[Apache <2>]]></pom:name></pom:license>
    <pom:license><pom:name>A &amp; B &#x263A; &lol; &ext;</pom:name><pom:url/></pom:license>
    <pom:license><pom:comments>no name or url</pom:comments></pom:license>
  </pom:licenses>
</pom:project>`;
  assert.deepEqual(pomLicenses(xml), [{ name: 'Apache <2>' }, { name: 'A & B ☺ &lol; &ext;' }]);
});

test('licenses elsewhere (a profile, a nested project) are not the project’s; malformed input ends quietly', () => {
  assert.deepEqual(
    pomLicenses(
      '<project><profiles><profile><licenses><license><name>X</name></license></licenses></profile></profiles></project>',
    ),
    [],
  );
  assert.deepEqual(pomLicenses('<licenses><license><name>no project</name></license></licenses>'), []);
  assert.deepEqual(pomLicenses('<project><licenses><license><name>cut'), []);
  assert.deepEqual(pomLicenses('<project><licenses><license><name>MIT</name></license><!-- unterminated'), [
    { name: 'MIT' },
  ]);
  assert.deepEqual(pomLicenses(''), []);
  assert.deepEqual(pomLicenses('not xml at all < > & ;'), []);
});

test('bounded: a POM past the limit is read only up to it', () => {
  const license = '<license><name>MIT</name></license>';
  const big = `<project><licenses>${' '.repeat(MAX_POM_BYTES)}${license}</licenses></project>`;
  assert.deepEqual(pomLicenses(big), []);
});

test('character references: valid ones decode, out-of-range ones stay as written', () => {
  assert.equal(
    decodeXmlText('&lt;&gt;&quot;&apos;&#65;&#x42;&#xD800;&#0;&unknown;'),
    `<>"'AB&#xD800;&#0;&unknown;`,
  );
});

/** Text as XML writes it: escaped as entities, or in CDATA when it holds no `]]>`. */
function escapeXml(text: string, cdata: boolean): string {
  if (cdata && !text.includes(']]>')) return `<![CDATA[${text}]]>`;
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const xmlChar = fc.constantFrom(...'abcXYZ 019.-/:<>&"\'];\t\n'.split(''), 'é', '☺');
const xmlText = fc.array(xmlChar, { maxLength: 30 }).map((cs) => cs.join(''));
const normalized = (t: string) => t.replace(/\s+/g, ' ').trim();

test('fast-check: licenses written any way XML allows are read back; any text never throws', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ name: fc.option(xmlText), url: fc.option(xmlText) }), { maxLength: 5 }),
      fc.constantFrom('', 'pom:', 'm:'),
      fc.boolean(),
      fc.boolean(),
      (licenses, prefix, cdata, comments) => {
        const el = (name: string, body: string) => `<${prefix}${name}>${body}</${prefix}${name}>`;
        const comment = comments ? '<!-- <license><name>decoy</name></license> -->' : '';
        const body = licenses
          .map((l) =>
            el(
              'license',
              `${comment}${l.name === null ? '' : el('name', escapeXml(l.name, cdata))}${
                l.url === null ? '' : el('url', escapeXml(l.url, !cdata))
              }<${prefix}distribution>repo</${prefix}distribution>`,
            ),
          )
          .join('\n');
        const xml = `<?xml version="1.0"?>\n${comment}<${prefix}project xmlns${prefix ? `:${prefix.slice(0, -1)}` : ''}="http://maven.apache.org/POM/4.0.0">${el('name', 'x')}${el('licenses', body)}</${prefix}project>`;
        const expected = licenses
          .map((l) => {
            const out: { name?: string; url?: string } = {};
            if (l.name !== null && normalized(l.name) !== '') out.name = normalized(l.name);
            if (l.url !== null && normalized(l.url) !== '') out.url = normalized(l.url);
            return out;
          })
          .filter((l) => l.name !== undefined || l.url !== undefined);
        assert.deepEqual(pomLicenses(xml), expected);
      },
    ),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), (text) => {
      const out = pomLicenses(`<project><licenses>${text}`);
      assert.ok(Array.isArray(out));
    }),
    { numRuns: 500 },
  );
});
