import { describe, expect, it } from "vitest";
import { tallyV1 } from "@voting/api";
import { tallyServiceDefinition } from "./tally-service.js";

const response = (totalBallots: number): tallyV1.GetResultsResponse => ({
  result: { ...tallyV1.ElectionResult.fromPartial({ electionId: 1, title: "Board", totalBallots }), updateTime: new Date(0) },
});

describe("tallyServiceDefinition", () => {
  it("encodes a result response once per response object, and each object as the generated code does", () => {
    const { getResults } = tallyServiceDefinition();
    const a = response(3);
    const first = getResults.responseSerialize(a);
    expect(getResults.responseSerialize(a)).toBe(first);
    expect(tallyV1.GetResultsResponse.decode(first).result!.totalBallots).toBe(3);
    const b = response(4);
    expect(getResults.responseSerialize(b)).toEqual(tallyV1.TallyServiceService.getResults.responseSerialize(b));
    expect(tallyV1.GetResultsResponse.decode(getResults.responseSerialize(b)).result!.totalBallots).toBe(4);
  });
});
