using VipProxy.Config.Diagnostics;

namespace VipProxy.Config.Tests;

/// <summary>
/// Real-world-style keepalived.conf files (corpus/*.conf), each with its verdict next to it (NAME.verdict): "accepted",
/// or exactly the errors <c>vipproxy check</c> prints, FILE:LINE:COL relative to the corpus. A first line
/// "node-id: ID" loads the file as that node (for @ID lines).
/// </summary>
public class CorpusTests
{
    private static readonly string Corpus = RepositoryFiles.Path("tests/VipProxy.Config.Tests/corpus");

    public static TheoryData<string> Files() => [.. Directory.GetFiles(Corpus, "*.conf").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(Files))]
    public void Each_file_gets_its_verdict(string file)
    {
        string path = Path.Combine(Corpus, file);
        string verdictFile = Path.ChangeExtension(path, ".verdict");
        List<string> verdict = File.Exists(verdictFile) ? [.. File.ReadAllLines(verdictFile).Where(l => l.Length > 0)] : [];
        string? nodeId = null;
        if (verdict.Count > 0 && verdict[0].StartsWith("node-id: ", StringComparison.Ordinal))
        {
            nodeId = verdict[0]["node-id: ".Length..];
            verdict.RemoveAt(0);
        }

        ConfigLoadResult result = ConfigLoader.Load(path, new ConfigLoadOptions(nodeId));
        List<string> errors = [.. result.Errors.Select(Relative)];
        if (verdict is ["accepted"])
        {
            Assert.True(result.Config is not null && errors.Count == 0, $"{file} should be accepted, got:\n{string.Join('\n', errors)}");
            return;
        }

        Assert.True(result.Config is null && verdict.SequenceEqual(errors),
            $"{file}: expected\n{string.Join('\n', verdict)}\nbut got\n{(result.Config is null ? "" : "accepted\n")}{string.Join('\n', errors)}\n(end)");
    }

    [Fact]
    public void The_corpus_has_at_least_fifteen_files_and_a_verdict_for_each()
    {
        string[] files = Directory.GetFiles(Corpus, "*.conf");
        Assert.True(files.Length >= 15, $"only {files.Length} files");
        Assert.All(files, f => Assert.True(File.Exists(Path.ChangeExtension(f, ".verdict")), $"{Path.GetFileName(f)} has no .verdict"));
        Assert.Contains(files, f => File.ReadAllLines(Path.ChangeExtension(f, ".verdict")).Contains("accepted"));
    }

    private static string Relative(Diagnostic d) =>
        $"{Path.GetRelativePath(Corpus, d.Location.File)}:{d.Location.Line}:{d.Location.Column}: error: {d.Message.Replace(Corpus + "/", "", StringComparison.Ordinal)}";
}
