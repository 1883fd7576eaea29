/**
 * CybOX 2.x object properties → "facts": (STIX 2.1 object type, property path, value, condition).
 * One fact list feeds both pattern building (pattern.ts) and SCO building (sco.ts).
 */
import { first } from '../../src/core/indexed.js';
import { attr, child, childrenNamed, path, textOf, xsiType, type XmlElement } from '../../src/core/safe-xml.js';
import { fact, push, simple, type Fact, type ObjectFacts } from './cybox-facts.js';
import { file, pathFacts } from './cybox-file.js';

export type { Fact, ObjectFacts, Step } from './cybox-facts.js';
export { fileFacts, hashFacts } from './cybox-file.js';

/** The CybOX properties type (`FileObjectType`) → STIX 2.1 object type, for types with a mapper. */
const MAPPERS: Record<string, (p: XmlElement) => ObjectFacts | undefined> = Object.assign(
  Object.create(null) as Record<string, (p: XmlElement) => ObjectFacts | undefined>,
  {
    AddressObjectType: address,
    DomainNameObjectType: (p: XmlElement) => simple('domain-name', [[['Value'], ['value']]], p),
    HostnameObjectType: (p: XmlElement) => simple('domain-name', [[['Hostname_Value'], ['value']]], p),
    URIObjectType: uri,
    LinkObjectType: uri,
    FileObjectType: (p: XmlElement) => file(p),
    WindowsFileObjectType: (p: XmlElement) => file(p),
    UnixFileObjectType: (p: XmlElement) => file(p),
    WindowsExecutableFileObjectType: (p: XmlElement) => file(p),
    ArchiveFileObjectType: (p: XmlElement) => file(p),
    ImageFileObjectType: (p: XmlElement) => file(p),
    PDFFileObjectType: (p: XmlElement) => file(p),
    MutexObjectType: (p: XmlElement) => simple('mutex', [[['Name'], ['name']]], p),
    WindowsMutexObjectType: (p: XmlElement) => simple('mutex', [[['Name'], ['name']]], p),
    WindowsRegistryKeyObjectType: registry,
    ProcessObjectType: process,
    WindowsProcessObjectType: process,
    UnixProcessObjectType: process,
    WindowsServiceObjectType: service,
    EmailMessageObjectType: email,
    NetworkConnectionObjectType: networkConnection,
    SocketAddressObjectType: (p: XmlElement) => ({ type: 'network-traffic', facts: socketAddress(p, 'src') }),
    NetworkSocketObjectType: networkSocket,
    PortObjectType: port,
    HTTPSessionObjectType: (p: XmlElement) => ({ type: 'network-traffic', facts: httpSession(p) }),
    X509CertificateObjectType: x509,
    ASObjectType: (p: XmlElement) =>
      simple(
        'autonomous-system',
        [
          [['Number'], ['number'], 'int'],
          [['Name'], ['name']],
          [['Regional_Internet_Registry'], ['rir']],
        ],
        p,
      ),
    UserAccountObjectType: account,
    WindowsUserAccountObjectType: account,
    UnixUserAccountObjectType: account,
  },
);

/** The CybOX types this mapper understands (for the README and counts). */
export const MAPPED_CYBOX_TYPES: readonly string[] = Object.keys(MAPPERS);

/**
 * Facts of one `cybox:Properties` element; undefined when the CybOX type has no STIX 2.1 mapping
 * (Windows handles, memory sections, kernel hooks, custom objects, …).
 */
export function objectFacts(props: XmlElement): ObjectFacts | undefined {
  const t = xsiType(props);
  if (!t) return undefined;
  const m = MAPPERS[t];
  if (!m) return undefined;
  const r = m(props);
  return r?.facts.length ? r : undefined;
}

// ---------------------------------------------------------------------------------------------

function address(p: XmlElement): ObjectFacts | undefined {
  const category = (attr(p, 'category') ?? 'ipv4-addr').toLowerCase();
  const value = child(p, 'Address_Value');
  let type: string;
  switch (category) {
    case 'ipv4-addr':
    case 'ipv4-net':
    case 'ipv4-netmask':
      type = 'ipv4-addr';
      break;
    case 'ipv6-addr':
    case 'ipv6-net':
    case 'ipv6-netmask':
      type = 'ipv6-addr';
      break;
    case 'e-mail':
      type = 'email-addr';
      break;
    case 'mac':
      type = 'mac-addr';
      break;
    case 'asn':
      return simple('autonomous-system', [[['Address_Value'], ['number'], 'int']], p);
    default:
      return undefined;
  }
  const facts: Fact[] = [];
  push(facts, fact(type, ['value'], value));
  return { type, facts };
}

function uri(p: XmlElement): ObjectFacts {
  const t = (attr(p, 'type') ?? 'URL').toLowerCase();
  const type = t === 'domain name' ? 'domain-name' : 'url';
  return simple(type, [[['Value'], ['value']]], p);
}

function registry(p: XmlElement): ObjectFacts {
  const facts: Fact[] = [];
  const hive = textOf(p, 'Hive');
  const hiveEl = child(p, 'Hive');
  const used = hiveEl ? [hiveEl] : [];
  const keyEl = child(p, 'Key');
  const key = fact('windows-registry-key', ['key'], keyEl);
  if (key) {
    if (hive && !first(key.values).toUpperCase().startsWith(hive.toUpperCase()))
      key.values = key.values.map((v) => `${hive}\\${v}`);
    facts.push(key);
  } else if (hive) push(facts, fact('windows-registry-key', ['key'], child(p, 'Hive')));
  for (const v of childrenNamed(child(p, 'Values'), 'Value')) {
    push(facts, fact('windows-registry-key', ['values', '[*]', 'name'], child(v, 'Name')));
    push(facts, fact('windows-registry-key', ['values', '[*]', 'data'], child(v, 'Data')));
    push(facts, fact('windows-registry-key', ['values', '[*]', 'data_type'], child(v, 'Datatype')));
  }
  return { type: 'windows-registry-key', facts, used };
}

function process(p: XmlElement): ObjectFacts {
  const facts: Fact[] = [];
  push(facts, fact('process', ['pid'], child(p, 'PID'), 'int'));
  push(facts, fact('process', ['image_ref', 'name'], child(p, 'Name')));
  const img = child(p, 'Image_Info');
  if (img) {
    if (!child(p, 'Name')) push(facts, fact('process', ['image_ref', 'name'], child(img, 'File_Name')));
    facts.push(
      ...pathFacts('process', ['image_ref'], child(img, 'Path'), textOf(p, 'Name') ?? textOf(img, 'File_Name')),
    );
    push(facts, fact('process', ['command_line'], child(img, 'Command_Line')));
    push(facts, fact('process', ['cwd'], child(img, 'Current_Directory')));
  }
  push(facts, fact('process', ['parent_ref', 'pid'], child(p, 'Parent_PID'), 'int'));
  push(facts, fact('process', ['created_time'], child(p, 'Creation_Time'), 'timestamp'));
  return { type: 'process', facts };
}

function service(p: XmlElement): ObjectFacts {
  const facts = process(p).facts;
  const ext = ['extensions', 'windows-service-ext'];
  push(facts, fact('process', [...ext, 'service_name'], child(p, 'Service_Name')));
  push(facts, fact('process', [...ext, 'display_name'], child(p, 'Display_Name')));
  for (const d of childrenNamed(child(p, 'Description_List'), 'Description'))
    push(facts, fact('process', [...ext, 'descriptions', '[*]'], d));
  push(facts, fact('process', [...ext, 'start_type'], child(p, 'Startup_Type')));
  push(facts, fact('process', [...ext, 'service_type'], child(p, 'Service_Type')));
  push(facts, fact('process', [...ext, 'service_status'], child(p, 'Service_Status')));
  push(facts, fact('process', [...ext, 'service_dll_refs', '[*]', 'name'], child(p, 'Service_DLL')));
  return { type: 'process', facts };
}

const HEADER_FIELDS: [string, string][] = [
  ['X_Mailer', 'X-Mailer'],
  ['Reply_To', 'Reply-To'],
  ['X_Originating_IP', 'X-Originating-IP'],
  ['User_Agent', 'User-Agent'],
  ['Errors_To', 'Errors-To'],
  ['Boundary', 'Boundary'],
  ['Precedence', 'Precedence'],
  ['In_Reply_To', 'In-Reply-To'],
];

function email(p: XmlElement): ObjectFacts {
  const t = 'email-message';
  const facts: Fact[] = [];
  const h = child(p, 'Header');
  if (h) {
    push(facts, fact(t, ['subject'], child(h, 'Subject')));
    push(facts, fact(t, ['from_ref', 'value'], path(h, 'From', 'Address_Value')));
    push(facts, fact(t, ['sender_ref', 'value'], path(h, 'Sender', 'Address_Value')));
    for (const [list, prop] of [
      ['To', 'to_refs'],
      ['CC', 'cc_refs'],
      ['BCC', 'bcc_refs'],
    ] as const) {
      for (const r of childrenNamed(child(h, list), 'Recipient'))
        push(facts, fact(t, [prop, '[*]', 'value'], child(r, 'Address_Value')));
    }
    push(facts, fact(t, ['message_id'], child(h, 'Message_ID')));
    push(facts, fact(t, ['date'], child(h, 'Date'), 'timestamp'));
    push(facts, fact(t, ['content_type'], child(h, 'Content_Type')));
    for (const [el, name] of HEADER_FIELDS) {
      const f =
        el === 'Reply_To'
          ? fact(t, ['additional_header_fields', name], path(h, 'Reply_To', 'Address_Value'))
          : fact(t, ['additional_header_fields', name], child(h, el));
      push(facts, f);
    }
  }
  return { type: t, facts };
}

/** Socket address facts (`IP_Address`, `Hostname`, `Port`) as `src_`/`dst_` of network-traffic. */
function socketAddress(sa: XmlElement | undefined, side: 'src' | 'dst'): Fact[] {
  const out: Fact[] = [];
  if (!sa) return out;
  push(out, fact('network-traffic', [`${side}_ref`, 'value'], path(sa, 'IP_Address', 'Address_Value')));
  push(out, fact('network-traffic', [`${side}_ref`, 'value'], path(sa, 'Hostname', 'Hostname_Value')));
  push(out, fact('network-traffic', [`${side}_port`], path(sa, 'Port', 'Port_Value'), 'int'));
  return out;
}

const lower = (v: string): string => v.toLowerCase();

function networkConnection(p: XmlElement): ObjectFacts {
  const t = 'network-traffic';
  const facts: Fact[] = [];
  push(facts, fact(t, ['protocols', '[*]'], child(p, 'Layer3_Protocol'), 'string', lower));
  push(facts, fact(t, ['protocols', '[*]'], child(p, 'Layer4_Protocol'), 'string', lower));
  push(facts, fact(t, ['protocols', '[*]'], child(p, 'Layer7_Protocol'), 'string', lower));
  facts.push(...socketAddress(child(p, 'Source_Socket_Address'), 'src'));
  facts.push(...socketAddress(child(p, 'Destination_Socket_Address'), 'dst'));
  const http = path(p, 'Layer7_Connections', 'HTTP_Session');
  if (http) facts.push(...httpSession(http));
  return { type: t, facts };
}

function headerName(local: string): string {
  return local
    .split('_')
    .map((w) => (w.length ? w.charAt(0).toUpperCase() + w.slice(1) : w))
    .join('-');
}

function httpSession(s: XmlElement): Fact[] {
  const t = 'network-traffic';
  const ext = ['extensions', 'http-request-ext'];
  const out: Fact[] = [];
  for (const rr of childrenNamed(s, 'HTTP_Request_Response')) {
    const req = child(rr, 'HTTP_Client_Request');
    if (!req) continue;
    const line = child(req, 'HTTP_Request_Line');
    push(out, fact(t, [...ext, 'request_method'], child(line, 'HTTP_Method')));
    push(out, fact(t, [...ext, 'request_value'], child(line, 'Value')));
    push(out, fact(t, [...ext, 'request_version'], child(line, 'Version')));
    const parsed = path(req, 'HTTP_Request_Header', 'Parsed_Header');
    for (const hdr of parsed?.children ?? []) {
      if (hdr.local === 'Host') {
        push(out, fact(t, [...ext, 'request_header', 'Host'], path(hdr, 'Domain_Name', 'Value')));
        continue;
      }
      if (hdr.local === 'Referer' || hdr.local === 'From') {
        push(
          out,
          fact(t, [...ext, 'request_header', hdr.local], child(hdr, 'Value') ?? child(hdr, 'Address_Value') ?? hdr),
        );
        continue;
      }
      push(out, fact(t, [...ext, 'request_header', headerName(hdr.local)], hdr));
    }
  }
  return out;
}

function networkSocket(p: XmlElement): ObjectFacts {
  const t = 'network-traffic';
  const facts: Fact[] = [];
  const ext = ['extensions', 'socket-ext'];
  push(
    facts,
    fact(t, [...ext, 'address_family'], child(p, 'Address_Family'), 'string', (v) => v.toUpperCase()),
  );
  push(
    facts,
    fact(t, [...ext, 'socket_type'], child(p, 'Type'), 'string', (v) => v.toUpperCase()),
  );
  push(facts, fact(t, [...ext, 'is_listening'], child(p, 'Is_Listening'), 'bool'));
  const listening = attr(p, 'is_listening');
  if (listening !== undefined && !child(p, 'Is_Listening')) {
    facts.push({
      type: t,
      steps: [...ext, 'is_listening'],
      values: [listening],
      condition: 'Equals',
      applyCondition: 'ANY',
      kind: 'bool',
    });
  }
  push(facts, fact(t, ['protocols', '[*]'], child(p, 'Protocol'), 'string', lower));
  for (const o of child(p, 'Options')?.children ?? []) {
    const v = textOf(o);
    if (v === undefined) continue;
    const asInt = /^(true|false|\d+)$/i.test(v);
    const f = fact(t, [...ext, 'options', o.local.toUpperCase()], o, asInt ? 'int' : 'string', (x) =>
      x.toLowerCase() === 'true' ? '1' : x.toLowerCase() === 'false' ? '0' : x,
    );
    push(facts, f);
  }
  facts.push(...socketAddress(child(p, 'Local_Address'), 'src'));
  facts.push(...socketAddress(child(p, 'Remote_Address'), 'dst'));
  return { type: t, facts };
}

function port(p: XmlElement): ObjectFacts {
  const t = 'network-traffic';
  const facts: Fact[] = [];
  push(facts, fact(t, ['dst_port'], child(p, 'Port_Value'), 'int'));
  push(facts, fact(t, ['protocols', '[*]'], child(p, 'Layer4_Protocol'), 'string', lower));
  return { type: t, facts };
}

/** CybOX X.509 Standard_Extensions → STIX 2.1 `x509_v3_extensions` properties. */
const X509_V3: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, {
  Basic_Constraints: 'basic_constraints',
  Name_Constraints: 'name_constraints',
  Policy_Constraints: 'policy_constraints',
  Key_Usage: 'key_usage',
  Extended_Key_Usage: 'extended_key_usage',
  Subject_Key_Identifier: 'subject_key_identifier',
  Authority_Key_Identifier: 'authority_key_identifier',
  Subject_Alternative_Name: 'subject_alternative_name',
  Issuer_Alternative_Name: 'issuer_alternative_name',
  Subject_Directory_Attributes: 'subject_directory_attributes',
  CRL_Distribution_Points: 'crl_distribution_points',
  Inhibit_Any_Policy: 'inhibit_any_policy',
  Certificate_Policies: 'certificate_policies',
  Policy_Mappings: 'policy_mappings',
});

function x509(p: XmlElement): ObjectFacts {
  const t = 'x509-certificate';
  const c = child(p, 'Certificate');
  const facts: Fact[] = [];
  if (c) {
    push(facts, fact(t, ['serial_number'], child(c, 'Serial_Number')));
    push(facts, fact(t, ['issuer'], child(c, 'Issuer')));
    push(facts, fact(t, ['subject'], child(c, 'Subject')));
    push(facts, fact(t, ['version'], child(c, 'Version')));
    push(facts, fact(t, ['signature_algorithm'], child(c, 'Signature_Algorithm')));
    push(facts, fact(t, ['validity_not_before'], path(c, 'Validity', 'Not_Before'), 'timestamp'));
    push(facts, fact(t, ['validity_not_after'], path(c, 'Validity', 'Not_After'), 'timestamp'));
    const pk = path(c, 'Subject_Public_Key', 'RSA_Public_Key');
    push(facts, fact(t, ['subject_public_key_modulus'], child(pk, 'Modulus')));
    push(facts, fact(t, ['subject_public_key_exponent'], child(pk, 'Exponent'), 'int'));
    push(facts, fact(t, ['subject_public_key_algorithm'], path(c, 'Subject_Public_Key', 'Public_Key_Algorithm')));
    const ext = child(c, 'Standard_Extensions');
    for (const e of ext?.children ?? []) {
      const v3 = ['x509_v3_extensions'];
      if (e.local === 'Private_Key_Usage_Period') {
        push(facts, fact(t, [...v3, 'private_key_usage_period_not_before'], child(e, 'Not_Before'), 'timestamp'));
        push(facts, fact(t, [...v3, 'private_key_usage_period_not_after'], child(e, 'Not_After'), 'timestamp'));
      } else {
        const name = X509_V3[e.local];
        if (name) push(facts, fact(t, [...v3, name], e));
      }
    }
  }
  return { type: t, facts };
}

function account(p: XmlElement): ObjectFacts {
  const t = 'user-account';
  return simple(
    t,
    [
      [['Username'], ['account_login']],
      [['Full_Name'], ['display_name']],
      [['User_ID'], ['user_id']],
    ],
    p,
  );
}
