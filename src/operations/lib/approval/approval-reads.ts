import type { ApproverFacts } from '../../../domain/approver-rules.js';
import type { Executor } from '../../../store/database.js';
import { approverFacts, vendorsOf } from '../../../store/queries/approvers.js';
import { activeIds } from '../../../store/queries/identities.js';

/**
 * What routing or deciding one request reads about people, each read once. Working out who may
 * decide each stage asks about the same people again and again: the beneficiary's vendors for every
 * stage, a sponsor who is also a system owner, the acting approver who is among the candidates.
 * Asked one by one that was three quarters of an approval's queries. One instance serves one request
 * in one transaction and is dropped with it; the request's own writes (a stage decided, a grant
 * issued) come after every read it makes, so none of them is ever served stale.
 */
export class ApprovalReads {
  private readonly facts = new Map<string, ApproverFacts>();
  private readonly active = new Map<string, boolean>();
  private readonly vendors = new Map<string, readonly string[]>();

  constructor(readonly exec: Executor) {}

  /**
   * Reads the standing and facts of everyone in `ids` in two round trips, so that the stage-by-stage
   * questions after it are answered from what was read. `factsOnly` are read for their facts alone
   * (the beneficiary, whose vendors the rules compare).
   */
  async prefetch(ids: readonly string[], factsOnly: readonly string[] = []): Promise<void> {
    await this.activeIds(ids);
    await this.factsOf([...ids, ...factsOnly]);
    for (const id of factsOnly) this.vendors.set(id, this.facts.get(id)!.vendorIds);
  }

  /** Those of `ids` whose identity is active, in the order given. */
  async activeIds(ids: readonly string[]): Promise<string[]> {
    const unknown = [...new Set(ids)].filter((id) => !this.active.has(id));
    if (unknown.length > 0) {
      const live = new Set(await activeIds(this.exec, unknown));
      for (const id of unknown) this.active.set(id, live.has(id));
    }
    return ids.filter((id) => this.active.get(id) === true);
  }

  /** The vendors one identity works for (on its record and through active engagements). */
  async vendorsOf(id: string): Promise<readonly string[]> {
    const known = this.vendors.get(id);
    if (known) return known;
    const found = (await vendorsOf(this.exec, [id])).get(id) ?? [];
    this.vendors.set(id, found);
    return found;
  }

  /** What the approver rules need about each of `ids`, one read for all those not yet seen. */
  async factsOf(ids: readonly string[]): Promise<ApproverFacts[]> {
    const wanted = [...new Set(ids)];
    const unknown = wanted.filter((id) => !this.facts.has(id));
    for (const found of await approverFacts(this.exec, unknown)) this.facts.set(found.id, found);
    return wanted.map((id) => this.facts.get(id)!);
  }
}
