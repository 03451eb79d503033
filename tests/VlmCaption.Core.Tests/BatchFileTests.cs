using System.Text;
using VlmCaption.Batch;
using Xunit;

namespace VlmCaption.Tests;

/// <summary>The request files of a batch round and the reading of its outputs, on real files.</summary>
public class BatchFileTests
{
    private static IEnumerable<(string, ReadOnlyMemory<byte>)> Requests(int count, int bodyBytes) =>
        Enumerable.Range(1, count).Select(i => ($"img-{i:D6}-c1-t1", (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes("{\"x\":\"" + new string('a', bodyBytes - 8) + "\"}")));

    [Fact]
    public void Splits_by_request_count_and_keeps_the_ids_beside_each_part()
    {
        using var folder = new TempFolder();
        IReadOnlyList<string> parts = BatchParts.Write(folder.Path, Requests(5, 50), maxRequests: 2, maxBytes: 1_000_000, (_, _) => Assert.Fail("nothing is too large"));
        Assert.Equal(3, parts.Count);
        Assert.Equal(new[] { 2, 2, 1 }, parts.Select(p => File.ReadAllLines(p).Length));
        Assert.Equal(new[] { "img-000001-c1-t1", "img-000002-c1-t1" }, BatchParts.IdsOf(parts[0]));
        Assert.Equal(parts, BatchParts.Existing(folder.Path));
        Assert.Empty(Directory.GetFiles(folder.Path, ".vlmcaption-*.tmp"));
        string line = File.ReadAllLines(parts[0])[0];
        Assert.StartsWith("{\"custom_id\":\"img-000001-c1-t1\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"x\":", line);
    }

    [Fact]
    public void Splits_by_bytes_and_gives_back_a_request_no_file_can_hold()
    {
        using var folder = new TempFolder();
        var tooLarge = new List<string>();
        var requests = Requests(4, 300).Concat(new[] { ("big", (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes("{\"x\":\"" + new string('b', 5000) + "\"}")) });
        IReadOnlyList<string> parts = BatchParts.Write(folder.Path, requests, maxRequests: 100, maxBytes: 800, (id, _) => tooLarge.Add(id));
        Assert.Equal(new[] { "big" }, tooLarge);
        // About 380 bytes a line: two to a file.
        Assert.Equal(2, parts.Count);
        Assert.Equal(new[] { 2, 2 }, parts.Select(p => File.ReadAllLines(p).Length));
        Assert.All(parts, p => Assert.True(new FileInfo(p).Length <= 800));
    }

    [Fact]
    public void A_round_whose_parts_were_not_all_written_has_none()
    {
        using var folder = new TempFolder();
        File.WriteAllText(BatchParts.PartPath(folder.Path, 1), "{}\n");
        Assert.Empty(BatchParts.Existing(folder.Path));
    }

    [Fact]
    public void Reads_answers_errors_and_unrun_requests_and_passes_over_lines_it_cannot_read()
    {
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "out.jsonl");
        File.WriteAllText(path, string.Join("\n",
            "{\"id\":\"r1\",\"custom_id\":\"a\",\"response\":{\"status_code\":200,\"request_id\":\"q\",\"body\":{\"choices\":[]}},\"error\":null}",
            "{\"id\":\"r2\",\"custom_id\":\"b\",\"response\":{\"status_code\":400,\"request_id\":\"q\",\"body\":{\"error\":{\"message\":\"no\"}}},\"error\":null}",
            "{\"id\":\"r3\",\"custom_id\":\"c\",\"response\":null,\"error\":{\"code\":\"batch_expired\",\"message\":\"late\"}}",
            "not json",
            "{\"custom_id\":\"d\",\"response\":{\"status_code\":200,\"body\":\"" + new string('z', 3000) + "\"}}",
            "{\"response\":{\"status_code\":200,\"body\":\"" + new string('z', 5000) + "\"},\"custom_id\":\"e\"}",
            "") + "\n");
        var skipped = new List<string>();
        List<BatchOutcome> outcomes = BatchOutput.Read(path, maxLineBytes: 1000, skipped.Add).ToList();
        Assert.Equal(new[] { "a", "b", "c", "d" }, outcomes.Select(o => o.CustomId));
        Assert.Equal(200, outcomes[0].Status);
        Assert.Equal("{\"choices\":[]}", Encoding.UTF8.GetString(outcomes[0].Body!));
        Assert.Equal(400, outcomes[1].Status);
        Assert.Equal((0, "batch_expired", "late"), (outcomes[2].Status, outcomes[2].ErrorCode, outcomes[2].ErrorMessage));
        // An overlong line that names its request in its first bytes fails that request alone; one that does not is passed over.
        Assert.Equal((BatchOutcome.TooLarge, 0), (outcomes[3].ErrorCode, outcomes[3].Status));
        Assert.Equal(2, skipped.Count);
        Assert.Contains("line 4", skipped[0]);
        Assert.Contains("line 6", skipped[1]);
        Assert.Contains("longer than 1000 bytes", skipped[1]);
    }

    [Fact]
    public void Answers_kept_on_disk_read_back_whole_and_the_file_goes_with_the_run()
    {
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "answers.tmp");
        var kept = new List<((long, int) Where, string Text)>();
        using (var answers = new BatchAnswers(path))
        {
            foreach (string text in new[] { "A red square.", "", "Ça va — 東京, ✓", new string('x', 100_000) })
            {
                kept.Add((answers.Add(text), text));
            }

            foreach (((long, int) where, string text) in kept.AsEnumerable().Reverse())
            {
                Assert.Equal(text, answers.Read(where));
            }
        }

        Assert.False(File.Exists(path));
    }
}
