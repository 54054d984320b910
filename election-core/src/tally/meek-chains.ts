// Meek's ballots as chains: the candidates a ballot passes through (elected ones), up to its
// first hopeful one. Ballots with the same chain count the same, so chains share prefixes in a
// trie and each round counts trie nodes, not ballots. A ballot moves only when the hopeful
// candidate its chain ends at is elected or defeated (as a pile moves in Gregory STV): elected
// candidates stay elected and defeated ones stay defeated, so the rest of its chain stands.
import { nextPreference, type PreparedBallots } from "./ballots.js";
import type { ResolvedOptions } from "./options.js";

export const DECIMALS = 9;
export const ONE = 10n ** BigInt(DECIMALS);
export const HOPEFUL = 0;
export const ELECTED = 1;
export const DEFEATED = 2;
const SCALE = Number(ONE);

/** floor(a x b / 10^9) for whole a, b in 0..10^9, exactly, in doubles (every step below 2^53). */
export function mulDivOne(a: number, b: number): number {
  // a x b = x x 10^5 + y with x = a x floor(b / 10^5) <= 10^13, y = a x (b mod 10^5) < 10^14.
  const bHigh = Math.floor(b / 1e5);
  const x = a * bHigh;
  const y = a * (b - bHigh * 1e5);
  // x x 10^5 = xq x 10^9 + xr x 10^5; a quotient of whole numbers this size is never rounded across a whole number.
  const xq = Math.floor(x / 1e4);
  return xq + Math.floor(((x - xq * 1e4) * 1e5 + y) / 1e9);
}

export class Chains {
  // The trie: node 0 is the empty chain; a node's chain is its parent's plus its candidate.
  private readonly parent: number[] = [-1];
  private readonly candidate: number[] = [-1];
  /** Ballots whose chain ends at the node (exhausted there unless its candidate is hopeful). */
  private readonly ends: number[] = [0];
  private readonly child = new Map<number, number>();
  /** Nodes some ballot passes through, parents first, with those ballots; rebuilt after moves. */
  private active: number[] = [];
  private through: bigint[] = [];
  private endsBig: bigint[] = [];
  private dirty = true;
  private readonly weight: bigint[] = [ONE];
  /** The same in doubles, used while every sum stays an exact integer (see distributeInDoubles). */
  private throughD = new Float64Array(0);
  private endsD = new Float64Array(0);
  private weightD = new Float64Array(0);
  private readonly kfD: Float64Array;
  private readonly votesD: Float64Array;
  private readonly inDoubles: boolean;

  private readonly nodeOf: Int32Array;
  /** The last mark of the chain's hopeful candidate. */
  private readonly pos: Int32Array;
  /** The hopeful candidate each ballot group's chain ends at, -1 when it is exhausted. */
  private readonly endsAt: Int32Array;
  /** 1 unless defeated: elected candidates count as continuing. */
  private readonly live: Uint8Array;

  constructor(
    private readonly prep: PreparedBallots,
    private readonly opts: ResolvedOptions,
    private readonly status: Uint8Array,
    exactInDoubles = prep.total * Number(ONE) <= Number.MAX_SAFE_INTEGER,
  ) {
    const n = prep.ids.length;
    this.inDoubles = exactInDoubles;
    this.kfD = new Float64Array(n);
    this.votesD = new Float64Array(n);
    this.nodeOf = new Int32Array(prep.groups);
    this.pos = new Int32Array(prep.groups);
    this.endsAt = new Int32Array(prep.groups);
    this.live = Uint8Array.from(status, (s) => (s === DEFEATED ? 0 : 1));
    for (let g = 0; g < prep.groups; g++) this.walk(g, 0, prep.start[g]);
  }

  /** c was just elected: its ballots go on through it. */
  elected(c: number): void {
    this.moveOn(c, false);
  }

  /** c was just defeated: its ballots go on as if it had never been on them. */
  defeated(c: number): void {
    this.live[c] = 0;
    this.moveOn(c, true);
  }

  // The groups in order, not as a pile: with many distinct rankings, reading them in memory order is what costs least.
  private moveOn(c: number, defeated: boolean): void {
    const { endsAt, nodeOf, pos, ends, parent } = this;
    const count = this.prep.count;
    for (let g = 0; g < endsAt.length; g++) {
      if (endsAt[g] !== c) continue;
      const node = nodeOf[g];
      ends[node] -= count[g];
      this.walk(g, defeated ? parent[node] : node, pos[g] + 1);
    }
  }

  /**
   * Each ballot gives each candidate on its chain, in order, weight x keep factor (rounded
   * down) and passes on weight x (1 - keep factor) (rounded down), from weight 1; fills votes
   * and returns what is left at the chains' ends (exhausted).
   */
  distribute(kf: readonly bigint[], votes: bigint[]): bigint {
    if (this.dirty) this.settle();
    if (this.inDoubles && kf.every((k) => k >= 0n && k <= ONE)) return this.distributeInDoubles(kf, votes);
    votes.fill(0n);
    const { parent, candidate, weight, active, through, endsBig } = this;
    let exhausted = ONE * endsBig[0];
    for (let k = 1; k < active.length; k++) {
      const v = active[k];
      const w = weight[parent[v]];
      if (w === 0n) {
        weight[v] = 0n;
        continue;
      }
      const c = candidate[v];
      votes[c] += ((w * kf[c]) / ONE) * through[k];
      const left = (w * (ONE - kf[c])) / ONE;
      weight[v] = left;
      if (endsBig[k] !== 0n) exhausted += left * endsBig[k];
    }
    return exhausted;
  }

  /**
   * distribute() in doubles, every value the same integer: a ballot hands out at most ONE in
   * all, so while total ballots x ONE <= 2^53 every product and sum here is an exact integer;
   * with keep factors in 0..ONE mulDivOne rounds down exactly as BigInt division does.
   */
  private distributeInDoubles(kf: readonly bigint[], votes: bigint[]): bigint {
    const { parent, candidate, active, throughD, endsD, weightD, kfD, votesD } = this;
    for (let c = 0; c < kfD.length; c++) kfD[c] = Number(kf[c]);
    votesD.fill(0);
    weightD[0] = SCALE;
    let exhausted = SCALE * endsD[0];
    for (let k = 1; k < active.length; k++) {
      const v = active[k];
      const w = weightD[parent[v]];
      if (w === 0) {
        weightD[v] = 0;
        continue;
      }
      const c = candidate[v];
      votesD[c] += mulDivOne(w, kfD[c]) * throughD[k];
      const left = mulDivOne(w, SCALE - kfD[c]);
      weightD[v] = left;
      exhausted += left * endsD[k];
    }
    for (let c = 0; c < votes.length; c++) votes[c] = BigInt(votesD[c]);
    return BigInt(exhausted);
  }

  /** Follows ballot group g from mark `from`, its chain so far at `node`, to its next hopeful candidate or its end. */
  private walk(g: number, node: number, from: number): void {
    const { marks, start } = this.prep;
    const end = start[g + 1];
    this.endsAt[g] = -1;
    for (;;) {
      const next = nextPreference(marks, from, end, this.live, this.opts.overvote);
      if (next.candidate < 0) break;
      node = this.childOf(node, next.candidate);
      if (this.status[next.candidate] === HOPEFUL) {
        this.pos[g] = next.pos;
        this.endsAt[g] = next.candidate;
        break;
      }
      from = next.pos + 1;
    }
    this.nodeOf[g] = node;
    this.ends[node] += this.prep.count[g];
    this.dirty = true;
  }

  private childOf(node: number, c: number): number {
    const key = node * (this.prep.ids.length + 1) + c;
    let to = this.child.get(key);
    if (to === undefined) {
      to = this.parent.push(node) - 1;
      this.candidate.push(c);
      this.ends.push(0);
      this.weight.push(0n);
      this.child.set(key, to);
    }
    return to;
  }

  /** Ballots through each node (children come after their parents), and the nodes that have any. */
  private settle(): void {
    const count = new Float64Array(this.parent.length);
    for (let v = count.length - 1; v > 0; v--) {
      count[v] += this.ends[v];
      count[this.parent[v]] += count[v];
    }
    this.active = [0];
    for (let v = 1; v < count.length; v++) if (count[v] !== 0) this.active.push(v);
    const through = this.active.map((v) => count[v]);
    const ends = this.active.map((v) => this.ends[v]);
    this.through = through.map(BigInt);
    this.endsBig = ends.map(BigInt);
    this.throughD = Float64Array.from(through);
    this.endsD = Float64Array.from(ends);
    if (this.weightD.length < count.length) this.weightD = new Float64Array(count.length * 2);
    this.dirty = false;
  }
}
