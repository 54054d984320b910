// Exact arithmetic for counts that must not drift: BigInt fractions (WIGM, and Scottish STV
// whose values are truncated to 5 decimals) and BigInt fixed-point (Meek).

function gcd(a: bigint, b: bigint): bigint {
  if (a < 0n) a = -a;
  if (b < 0n) b = -b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** Floor division for BigInt (BigInt `/` truncates toward zero). */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}

/** Ceiling division for BigInt. */
export function ceilDiv(a: bigint, b: bigint): bigint {
  return -floorDiv(-a, b);
}

/** `units / 10^decimals` as a decimal string with exactly `decimals` places. */
export function formatFixed(units: bigint, decimals: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(decimals + 1, "0");
  const body = decimals === 0 ? digits : `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
  return negative ? `-${body}` : body;
}

/** An exact fraction num/den in lowest terms with den > 0. Immutable. */
export class Rational {
  static readonly ZERO = new Rational(0n, 1n);
  static readonly ONE = new Rational(1n, 1n);

  private constructor(
    readonly num: bigint,
    readonly den: bigint,
  ) {}

  static of(num: bigint | number, den: bigint | number = 1n): Rational {
    let n = BigInt(num);
    let d = BigInt(den);
    if (d === 0n) throw new RangeError("division by zero");
    if (d < 0n) [n, d] = [-n, -d];
    const g = gcd(n, d);
    return g > 1n ? new Rational(n / g, d / g) : new Rational(n, d);
  }

  add(o: Rational): Rational {
    return this.den === o.den ? Rational.of(this.num + o.num, this.den) : Rational.of(this.num * o.den + o.num * this.den, this.den * o.den);
  }

  sub(o: Rational): Rational {
    return this.add(o.neg());
  }

  neg(): Rational {
    return new Rational(-this.num, this.den);
  }

  mul(o: Rational): Rational {
    return Rational.of(this.num * o.num, this.den * o.den);
  }

  mulInt(k: bigint): Rational {
    return Rational.of(this.num * k, this.den);
  }

  div(o: Rational): Rational {
    return Rational.of(this.num * o.den, this.den * o.num);
  }

  cmp(o: Rational): number {
    const l = this.num * o.den;
    const r = o.num * this.den;
    return l < r ? -1 : l > r ? 1 : 0;
  }

  isZero(): boolean {
    return this.num === 0n;
  }

  /** floor(this * 10^decimals). */
  floorScaled(decimals: number): bigint {
    return floorDiv(this.num * 10n ** BigInt(decimals), this.den);
  }

  /** Rounded down to `decimals` places (the Scottish rules' "any remainder being ignored"). */
  truncate(decimals: number): Rational {
    return Rational.of(this.floorScaled(decimals), 10n ** BigInt(decimals));
  }

  /** Decimal string rounded down to `decimals` places. */
  toFixed(decimals: number): string {
    return formatFixed(this.floorScaled(decimals), decimals);
  }

  toNumber(): number {
    // Scaled first so that huge numerators and denominators do not overflow to Infinity.
    return Number(this.floorScaled(15)) / 1e15;
  }

  /** Stable key for grouping equal values. */
  key(): string {
    return `${this.num}/${this.den}`;
  }
}
