/**
 * STIX 1.x meaning kept (issue 14): unknown conditions are rejected for their term (never read as
 * `=`), full file paths compared with `contains` are split into name and directory, a `contains`
 * of a complete value is also findable by lookup, and properties without a STIX 2.1 place are
 * listed in `x_stix1_unmapped`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectXmlSource } from '../../test/helpers/xml-source.js';
import { indicatorObservables } from '../../src/core/object-observables.js';
import type { StixObject } from '../../src/core/stix.js';
import { must } from '../../test/helpers/must.js';

const dir = mkdtempSync(join(tmpdir(), 'stix1-sem-'));
const NS = `xmlns:stix="http://stix.mitre.org/stix-1" xmlns:indicator="http://stix.mitre.org/Indicator-2" xmlns:cybox="http://cybox.mitre.org/cybox-2"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:ex="http://example.com"`;

function pkg(name: string, indicators: string, observables = ''): string {
  const p = join(dir, name);
  writeFileSync(
    p,
    `<stix:STIX_Package ${NS} id="ex:Package-1b4ad8a5-0d43-4b6a-9a39-3b7e2f1c0a01" version="1.2" timestamp="2026-01-05T10:00:00Z">
<stix:Observables cybox_major_version="2" cybox_minor_version="1">${observables}</stix:Observables>
<stix:Indicators>${indicators}</stix:Indicators></stix:STIX_Package>`,
  );
  return p;
}

function indicator(uuid: string, props: string): string {
  return `<stix:Indicator id="ex:indicator-${uuid}" xsi:type="indicator:IndicatorType"><indicator:Title>t</indicator:Title>
<indicator:Observable id="ex:Observable-${uuid}"><cybox:Object id="ex:Object-${uuid}">${props}</cybox:Object></indicator:Observable></stix:Indicator>`;
}

const byId = (objects: StixObject[], uuid: string): StixObject =>
  must(
    objects.find((o) => o.id === `indicator--${uuid}`),
    'objects.find((o) => o.id === `indicator--${uuid}`)',
  );

test('an unknown condition (greaterthen) is left out of the pattern and listed with its reason, never read as =', async () => {
  const u = '0a6e1c6e-1f5e-4f38-8f0e-000000000001';
  const r = await collectXmlSource(
    'stix1',
    pkg(
      'cond.xml',
      indicator(
        u,
        `<cybox:Properties xsi:type="NetworkConnectionObj:NetworkConnectionObjectType" xmlns:NetworkConnectionObj="http://cybox.mitre.org/objects#NetworkConnectionObject-2"
   xmlns:SocketAddressObj="http://cybox.mitre.org/objects#SocketAddressObject-1" xmlns:AddressObj="http://cybox.mitre.org/objects#AddressObject-2" xmlns:PortObj="http://cybox.mitre.org/objects#PortObject-2">
  <NetworkConnectionObj:Destination_Socket_Address><SocketAddressObj:IP_Address category="ipv4-addr"><AddressObj:Address_Value condition="Equals">198.51.100.7</AddressObj:Address_Value></SocketAddressObj:IP_Address>
  <SocketAddressObj:Port><PortObj:Port_Value condition="greaterthen">80</PortObj:Port_Value></SocketAddressObj:Port></NetworkConnectionObj:Destination_Socket_Address></cybox:Properties>`,
      ),
    ),
  );
  assert.deepEqual(r.rejections, []);
  const ind = byId(r.objects, u);
  assert.equal(ind.pattern, "[network-traffic:dst_ref.value = '198.51.100.7']");
  assert.deepEqual(ind.x_stix1_unmapped, [
    {
      cybox_type: 'NetworkConnectionObjectType',
      id: `ex:Object-${u}`,
      property: 'Port_Value',
      value: '80',
      condition: 'greaterthen',
      reason: 'unknown_condition',
    },
  ]);
});

test('a full path compared with contains is split: name → file:name, directory → parent_directory_ref.path', async () => {
  const u = '0a6e1c6e-1f5e-4f38-8f0e-000000000002';
  const r = await collectXmlSource(
    'stix1',
    pkg(
      'path.xml',
      indicator(
        u,
        `<cybox:Properties xsi:type="FileObj:FileObjectType" xmlns:FileObj="http://cybox.mitre.org/objects#FileObject-2">
  <FileObj:File_Path condition="Contains">\\AppData\\Roaming\\svch0st.exe</FileObj:File_Path></cybox:Properties>`,
      ),
    ),
  );
  assert.deepEqual(r.rejections, []);
  assert.equal(
    byId(r.objects, u).pattern,
    "[(file:name MATCHES '^svch0st\\\\.exe' AND file:parent_directory_ref.path MATCHES '\\\\\\\\AppData\\\\\\\\Roaming$')]",
  );
});

test('a contains term whose content is a complete domain keeps its contains meaning and is findable by lookup', async () => {
  const u = '0a6e1c6e-1f5e-4f38-8f0e-000000000003';
  const v = '0a6e1c6e-1f5e-4f38-8f0e-000000000004';
  const r = await collectXmlSource(
    'stix1',
    pkg(
      'contains.xml',
      indicator(
        u,
        `<cybox:Properties xsi:type="DomainNameObj:DomainNameObjectType" xmlns:DomainNameObj="http://cybox.mitre.org/objects#DomainNameObject-1">
  <DomainNameObj:Value condition="Contains">Update-Check.example.net</DomainNameObj:Value></cybox:Properties>`,
      ) +
        indicator(
          v,
          `<cybox:Properties xsi:type="DomainNameObj:DomainNameObjectType" xmlns:DomainNameObj="http://cybox.mitre.org/objects#DomainNameObject-1">
  <DomainNameObj:Value condition="Contains">update-check</DomainNameObj:Value></cybox:Properties>`,
        ),
    ),
  );
  const full = byId(r.objects, u);
  assert.equal(
    full.pattern,
    "[(domain-name:value MATCHES 'Update-Check\\\\.example\\\\.net' OR domain-name:value = 'update-check.example.net')]",
  );
  assert.deepEqual(indicatorObservables(full), [{ type: 'domain-name', value: 'update-check.example.net' }]);
  // a fragment is not a value: no lookup companion
  const part = byId(r.objects, v);
  assert.equal(part.pattern, "[domain-name:value MATCHES 'update-check']");
  assert.deepEqual(indicatorObservables(part), []);
});

test('properties with no STIX 2.1 place (account fields, PE headers) are listed in x_stix1_unmapped; X.509 v3 extensions are mapped', async () => {
  const r = await collectXmlSource(
    'stix1',
    pkg(
      'unmapped.xml',
      '',
      `
<cybox:Observable id="ex:Observable-0a6e1c6e-1f5e-4f38-8f0e-000000000005"><cybox:Object id="ex:Object-0a6e1c6e-1f5e-4f38-8f0e-000000000005">
 <cybox:Properties xsi:type="UserAccountObj:UserAccountObjectType" xmlns:UserAccountObj="http://cybox.mitre.org/objects#UserAccountObject-2" xmlns:AccountObj="http://cybox.mitre.org/objects#AccountObject-2">
  <AccountObj:Domain>CORP</AccountObj:Domain><UserAccountObj:Full_Name>Service Backup</UserAccountObj:Full_Name>
  <UserAccountObj:Home_Directory>C:\\Users\\svc_backup</UserAccountObj:Home_Directory><UserAccountObj:Username>svc_backup</UserAccountObj:Username>
 </cybox:Properties></cybox:Object></cybox:Observable>
<cybox:Observable id="ex:Observable-0a6e1c6e-1f5e-4f38-8f0e-000000000006"><cybox:Object id="ex:Object-0a6e1c6e-1f5e-4f38-8f0e-000000000006">
 <cybox:Properties xsi:type="WinExecutableFileObj:WindowsExecutableFileObjectType" xmlns:WinExecutableFileObj="http://cybox.mitre.org/objects#WinExecutableFileObject-2" xmlns:FileObj="http://cybox.mitre.org/objects#FileObject-2">
  <FileObj:File_Name>loader.dll</FileObj:File_Name>
  <WinExecutableFileObj:Headers><WinExecutableFileObj:File_Header><WinExecutableFileObj:Machine>014c</WinExecutableFileObj:Machine>
  <WinExecutableFileObj:Number_Of_Sections>4</WinExecutableFileObj:Number_Of_Sections></WinExecutableFileObj:File_Header></WinExecutableFileObj:Headers>
 </cybox:Properties></cybox:Object></cybox:Observable>
<cybox:Observable id="ex:Observable-0a6e1c6e-1f5e-4f38-8f0e-000000000007"><cybox:Object id="ex:Object-0a6e1c6e-1f5e-4f38-8f0e-000000000007">
 <cybox:Properties xsi:type="X509CertificateObj:X509CertificateObjectType" xmlns:X509CertificateObj="http://cybox.mitre.org/objects#X509CertificateObject-2">
  <X509CertificateObj:Certificate><X509CertificateObj:Serial_Number>04:a1:77</X509CertificateObj:Serial_Number>
  <X509CertificateObj:Standard_Extensions><X509CertificateObj:Basic_Constraints>critical,CA:FALSE</X509CertificateObj:Basic_Constraints></X509CertificateObj:Standard_Extensions>
  </X509CertificateObj:Certificate>
  <X509CertificateObj:Certificate_Signature><X509CertificateObj:Signature_Algorithm>sha256WithRSAEncryption</X509CertificateObj:Signature_Algorithm></X509CertificateObj:Certificate_Signature>
 </cybox:Properties></cybox:Object></cybox:Observable>`,
    ),
  );
  assert.deepEqual(r.rejections, []);
  const od = (n: string) =>
    must(
      r.objects.find(
        (o) => o.type === 'observed-data' && o.id === `observed-data--0a6e1c6e-1f5e-4f38-8f0e-00000000000${n}`,
      ),
      "r.objects.find( (o) => o.type === 'observed-data' && o.id...",
    );
  const sco = (od: StixObject) =>
    must(
      r.objects.find((o) => o.id === (od.object_refs as string[])[0]),
      'r.objects.find((o) => o.id === (od.object_refs as string[...',
    );
  assert.deepEqual(od('5').x_stix1_unmapped, [
    {
      cybox_type: 'UserAccountObjectType',
      id: 'ex:Object-0a6e1c6e-1f5e-4f38-8f0e-000000000005',
      property: 'Domain',
      value: 'CORP',
      reason: 'no_stix_property',
    },
    {
      cybox_type: 'UserAccountObjectType',
      id: 'ex:Object-0a6e1c6e-1f5e-4f38-8f0e-000000000005',
      property: 'Home_Directory',
      value: 'C:\\Users\\svc_backup',
      reason: 'no_stix_property',
    },
  ]);
  assert.equal(sco(od('5')).account_login, 'svc_backup');
  assert.deepEqual(
    (od('6').x_stix1_unmapped as { property: string }[]).map((x) => x.property),
    ['Headers/File_Header/Machine', 'Headers/File_Header/Number_Of_Sections'],
  );
  assert.deepEqual(sco(od('7')).x509_v3_extensions, { basic_constraints: 'critical,CA:FALSE' });
  assert.deepEqual(
    (od('7').x_stix1_unmapped as { property: string }[]).map((x) => x.property),
    ['Certificate_Signature/Signature_Algorithm'],
  );
});

test('a TTP that is only victim targeting becomes the targeted identity (with its CIQ location); a campaign using it targets it', async () => {
  const p = join(dir, 'victim.xml');
  writeFileSync(
    p,
    `<stix:STIX_Package ${NS} xmlns:ttp="http://stix.mitre.org/TTP-1" xmlns:campaign="http://stix.mitre.org/Campaign-1" xmlns:stixCommon="http://stix.mitre.org/common-1"
 xmlns:ciq="http://stix.mitre.org/extensions/Identity#CIQIdentity3.0-1" xmlns:xpil="urn:oasis:names:tc:ciq:xpil:3" xmlns:xnl="urn:oasis:names:tc:ciq:xnl:3" xmlns:xal="urn:oasis:names:tc:ciq:xal:3"
 id="ex:Package-1b4ad8a5-0d43-4b6a-9a39-3b7e2f1c0a02" version="1.2" timestamp="2026-01-05T10:00:00Z">
<stix:TTPs><stix:TTP id="ex:ttp-7d0f3b8e-2c1a-4e5f-9a6b-000000000001" xsi:type="ttp:TTPType"><ttp:Title>Regional banks</ttp:Title>
 <ttp:Victim_Targeting><ttp:Identity xsi:type="ciq:CIQIdentity3.0InstanceType"><ciq:Specification>
  <xpil:PartyName><xnl:OrganisationName><xnl:NameElement>Regional banks</xnl:NameElement></xnl:OrganisationName></xpil:PartyName>
  <xpil:Addresses><xpil:Address><xal:Country><xal:NameElement xal:NameCode="DE"/></xal:Country><xal:AdministrativeArea><xal:NameElement>Bavaria</xal:NameElement></xal:AdministrativeArea></xpil:Address></xpil:Addresses>
  <xpil:OrganisationInfo xpil:IndustryType="Financial Services"/></ciq:Specification></ttp:Identity>
 <ttp:Targeted_Information>Information Assets - Financial Data</ttp:Targeted_Information></ttp:Victim_Targeting></stix:TTP></stix:TTPs>
<stix:Campaigns><stix:Campaign id="ex:campaign-7d0f3b8e-2c1a-4e5f-9a6b-000000000002" xsi:type="campaign:CampaignType"><campaign:Title>Operation Ledger</campaign:Title>
 <campaign:Related_TTPs><campaign:Related_TTP><stixCommon:TTP idref="ex:ttp-7d0f3b8e-2c1a-4e5f-9a6b-000000000001"/></campaign:Related_TTP></campaign:Related_TTPs></stix:Campaign></stix:Campaigns>
</stix:STIX_Package>`,
  );
  const r = await collectXmlSource('stix1', p);
  assert.deepEqual(r.rejections, []);
  const victim = must(
    r.objects.find((o) => o.id === 'identity--7d0f3b8e-2c1a-4e5f-9a6b-000000000001'),
    "r.objects.find((o) => o.id === 'identity--7d0f3b8e-2c1a-4...",
  );
  assert.deepEqual(
    { ...victim, created_by_ref: undefined },
    {
      type: 'identity',
      spec_version: '2.1',
      id: victim.id,
      created: '2026-01-05T10:00:00.000Z',
      modified: '2026-01-05T10:00:00.000Z',
      name: 'Regional banks',
      identity_class: 'organization',
      sectors: ['financial-services'],
      x_stix1_targeted_information: ['Information Assets - Financial Data'],
      created_by_ref: undefined,
    },
  );
  const loc = must(
    r.objects.find((o) => o.type === 'location'),
    "r.objects.find((o) => o.type === 'location')",
  );
  assert.deepEqual([loc.country, loc.administrative_area], ['DE', 'Bavaria']);
  const rel = (type: string) =>
    r.objects
      .filter((o) => o.type === 'relationship' && o.relationship_type === type)
      .map((o) => [o.source_ref, o.target_ref]);
  assert.deepEqual(rel('located-at'), [[victim.id, loc.id]]);
  assert.deepEqual(rel('targets'), [['campaign--7d0f3b8e-2c1a-4e5f-9a6b-000000000002', victim.id]]);
  assert.deepEqual(rel('uses'), []);
});

test('record time (docs/scoring.md §2a): latest sighting, else the indicator timestamp, else Produced_Time; the document mtime never', async () => {
  const { parseXmlString } = await import('../../src/core/safe-xml.js');
  const { loadStix1Tables } = await import('./common.js');
  const { mapStix1Package } = await import('./map.js');
  const { PROJECT_ROOT } = await import('../../test/helpers/corpus.js');
  const tables = loadStix1Tables(join(PROJECT_ROOT, 'mappings'));
  const dom = (v: string) =>
    `<cybox:Properties xsi:type="DomainNameObj:DomainNameObjectType" xmlns:DomainNameObj="http://cybox.mitre.org/objects#DomainNameObject-1"><DomainNameObj:Value>${v}</DomainNameObj:Value></cybox:Properties>`;
  const withTs = (u: string, ts: string, extra: string, v: string) =>
    `<stix:Indicator id="ex:indicator-${u}" timestamp="${ts}" xsi:type="indicator:IndicatorType"><indicator:Observable><cybox:Object>${dom(v)}</cybox:Object></indicator:Observable>${extra}</stix:Indicator>`;
  const body = (header: string) =>
    `<stix:STIX_Package ${NS} version="1.2">${header}<stix:Indicators>` +
    withTs(
      '0a6e1c6e-1f5e-4f38-8f0e-000000000011',
      '2025-12-01T00:00:00Z',
      '<indicator:Sightings><indicator:Sighting timestamp="2026-01-20T06:00:00Z"/><indicator:Sighting timestamp="2026-01-02T06:00:00Z"/></indicator:Sightings>',
      'a.example',
    ) +
    withTs('0a6e1c6e-1f5e-4f38-8f0e-000000000012', '2025-12-03T00:00:00Z', '', 'b.example') +
    `<stix:Indicator id="ex:indicator-0a6e1c6e-1f5e-4f38-8f0e-000000000013" xsi:type="indicator:IndicatorType"><indicator:Observable><cybox:Object>${dom('c.example')}</cybox:Object></indicator:Observable></stix:Indicator>` +
    '</stix:Indicators></stix:STIX_Package>';
  const map = (xml: string) =>
    mapStix1Package(parseXmlString(Buffer.from(xml), { name: 'x' }).root, {
      sourceId: 't',
      fallbackTime: '2026-02-01T00:00:00.000Z',
      tables,
    }).seenAt;
  const produced =
    '<stix:STIX_Header><stix:Information_Source><stixCommon:Time xmlns:stixCommon="http://stix.mitre.org/common-1"><cyboxCommon:Produced_Time xmlns:cyboxCommon="http://cybox.mitre.org/common-2">2025-11-30T12:00:00Z</cyboxCommon:Produced_Time></stixCommon:Time></stix:Information_Source></stix:STIX_Header>';
  assert.deepEqual(Object.fromEntries(map(body(produced))), {
    'indicator--0a6e1c6e-1f5e-4f38-8f0e-000000000011': '2026-01-20T06:00:00.000Z',
    'indicator--0a6e1c6e-1f5e-4f38-8f0e-000000000012': '2025-12-03T00:00:00.000Z',
    'indicator--0a6e1c6e-1f5e-4f38-8f0e-000000000013': '2025-11-30T12:00:00.000Z',
  });
  // no Produced_Time: the undated indicator is left to the poll time (the fallback mtime is not a record date)
  assert.equal(map(body('')).has('indicator--0a6e1c6e-1f5e-4f38-8f0e-000000000013'), false);
});
