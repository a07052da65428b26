/**
 * Plausible fake identifiers. Every one is in a range reserved for tests or fiction, so no real
 * person can be hit: SSNs in the 9xx area (never issued as SSNs), phone numbers 555-0100 to
 * 555-0199 (reserved for fiction), e-mail at example.com (RFC 2606), medical record numbers from
 * a scrambled patient index.
 */
import type { Rng } from './prng.js';
import { mixKeys } from './prng.js';

const FEMALE = [
  'Mary',
  'Patricia',
  'Jennifer',
  'Linda',
  'Elizabeth',
  'Barbara',
  'Susan',
  'Jessica',
  'Sarah',
  'Karen',
  'Lisa',
  'Nancy',
  'Betty',
  'Margaret',
  'Sandra',
  'Ashley',
  'Dorothy',
  'Kimberly',
  'Emily',
  'Donna',
  'Michelle',
  'Carol',
  'Amanda',
  'Melissa',
  'Deborah',
  'Stephanie',
  'Rebecca',
  'Sharon',
  'Laura',
  'Cynthia',
  'Maria',
  'Rosa',
  'Ana',
  'Mei',
  'Aisha',
  'Fatima',
  'Priya',
  'Keisha',
  'Ruth',
  'Helen',
  'Gloria',
  'Joan',
  'Evelyn',
  'Alice',
];
const MALE = [
  'James',
  'Robert',
  'John',
  'Michael',
  'David',
  'William',
  'Richard',
  'Joseph',
  'Thomas',
  'Charles',
  'Christopher',
  'Daniel',
  'Matthew',
  'Anthony',
  'Mark',
  'Donald',
  'Steven',
  'Paul',
  'Andrew',
  'Joshua',
  'Kenneth',
  'Kevin',
  'Brian',
  'George',
  'Timothy',
  'Ronald',
  'Edward',
  'Jason',
  'Jose',
  'Luis',
  'Carlos',
  'Wei',
  'Hiroshi',
  'Ahmed',
  'Omar',
  'Raj',
  'Darnell',
  'Walter',
  'Harold',
  'Frank',
  'Arthur',
  'Eugene',
  'Ralph',
  'Samuel',
];
const LAST = [
  'Smith',
  'Johnson',
  'Williams',
  'Brown',
  'Jones',
  'Garcia',
  'Miller',
  'Davis',
  'Rodriguez',
  'Martinez',
  'Hernandez',
  'Lopez',
  'Gonzalez',
  'Wilson',
  'Anderson',
  'Thomas',
  'Taylor',
  'Moore',
  'Jackson',
  'Martin',
  'Lee',
  'Perez',
  'Thompson',
  'White',
  'Harris',
  'Sanchez',
  'Clark',
  'Ramirez',
  'Lewis',
  'Robinson',
  'Walker',
  'Young',
  'Allen',
  'King',
  'Wright',
  'Scott',
  'Torres',
  'Nguyen',
  'Hill',
  'Flores',
  'Green',
  'Adams',
  'Nelson',
  'Baker',
  'Hall',
  'Rivera',
  'Campbell',
  'Mitchell',
  'Carter',
  'Roberts',
  'Chen',
  'Patel',
  'Kim',
  'Singh',
  'Okafor',
  'Murphy',
  'Sullivan',
  'OBrien',
  'Kelly',
  'Cohen',
  'Rossi',
  'Silva',
  'Tran',
  'Wang',
  'Li',
  'Nakamura',
];
const AREA_CODES = ['617', '508', '781', '978', '413', '774', '857', '339', '351'];
const ZIP3 = ['010', '011', '013', '014', '015', '016', '017', '018', '019', '020', '021', '022', '023', '024', '025', '026', '027'];

const pad = (n: number, width: number) => String(n).padStart(width, '0');

export interface Person {
  first: string;
  last: string;
  zip: string | null;
  ssn: string | null;
  phone: string | null;
  email: string | null;
}

export function drawPerson(rng: Rng, sex: 'F' | 'M' | 'U'): Person {
  const first = rng.pick(sex === 'F' ? FEMALE : sex === 'M' ? MALE : rng.bernoulli(0.5) ? FEMALE : MALE);
  const last = rng.pick(LAST);
  return {
    first,
    last,
    zip: rng.bernoulli(0.01) ? null : rng.pick(ZIP3) + pad(rng.int(0, 99), 2),
    ssn: rng.bernoulli(0.15) ? null : `9${pad(rng.int(0, 99), 2)}-${pad(rng.int(1, 99), 2)}-${pad(rng.int(1, 9999), 4)}`,
    phone: rng.bernoulli(0.05) ? null : drawPhone(rng),
    email: rng.bernoulli(0.3) ? null : `${first}.${last}${rng.int(1, 999)}@example.com`.toLowerCase(),
  };
}

export function drawPhone(rng: Rng): string {
  return `${rng.pick(AREA_CODES)}-555-01${pad(rng.int(0, 99), 2)}`;
}

/**
 * The medical record number of patient `index`: an affine scramble modulo 10^8 (the multiplier is
 * coprime to 10^8, so distinct indices below 10^8 give distinct numbers), offset by the seed.
 */
export function medicalRecordNumber(seed: number, index: number): string {
  const offset = mixKeys(seed, [0x6d726e]) % 100_000_000;
  const n = (index * 7_654_321 + offset) % 100_000_000;
  return `MRN${pad(n, 8)}`;
}
