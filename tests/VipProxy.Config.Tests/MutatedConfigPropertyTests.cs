using System.Diagnostics;
using System.Text;
using CsCheck;
using VipProxy.Config.Syntax;
using Xunit.Abstractions;

namespace VipProxy.Config.Tests;

/// <summary>
/// Issue #7, hostile input: real-world configurations, mutated and truncated, only ever produce diagnostics. The loader
/// must return (valid or not) without throwing, within a generous per-file bound (a hang guard, not a benchmark), and
/// every diagnostic must point at FILE:LINE:COLUMN. Includes resolve in an in-memory tree, so no mutant reads the disk;
/// that tree includes the mutant itself and files that include each other.
/// <para>
/// The main run is deterministic: CsCheck generators driven by fixed PCG seeds, one per chunk, so spreading chunks
/// over the cores changes nothing but the wall time.
/// </para>
/// </summary>
public sealed class MutatedConfigPropertyTests(ITestOutputHelper output)
{
    private const int Cases = 10_000;
    private const int Chunks = 8;
    private const ulong RunSeed = 0xC0F_2026;
    private const string MainPath = "/etc/vipproxy/keepalived.conf";
    // A hang guard, not a benchmark: the slowest mutant measured takes well under a second, but this machine's two
    // cores are shared, so the bound leaves room for scheduling. A real hang never returns at all.
    private static readonly TimeSpan PerLoadBound = TimeSpan.FromSeconds(5);

    /// <summary>The shipped configurations and the shapes the other config tests use.</summary>
    private static readonly string[] Seeds =
    [
        File.ReadAllText(RepositoryFiles.Path("conf/lb1.conf")),
        File.ReadAllText(RepositoryFiles.Path("conf/lb2.conf")),
        File.ReadAllText(RepositoryFiles.Path("conf/reference.conf")),
        ConfigAssert.MinimalInstance,
        "! Configuration File for keepalived\nglobal_defs{\n\trouter_id LVS_DEVEL # the id\n}\n"
            + "vrrp_instance VI_1{\n\tstate MASTER\n\tinterface eth0\n\tvirtual_router_id 51\n\tpriority 100\n\tadvert_int 1\n"
            + "\tauthentication{\n\t\tauth_type PASS\n\t\tauth_pass 1111\n\t}\n\tvirtual_ipaddress{\n\t\t192.168.56.200\n\t}}\n"
            + "virtual_server 192.168.56.200 8066{\n\tdelay_loop 6\n\tlb_algo rr\n\tlb_kind NAT\n\tpersistence_timeout 50\n\tprotocol TCP\n"
            + "\treal_server 172.18.0.201 8066{\n\t\tweight 1\n\t\tTCP_CHECK{connect_timeout 3\n\t\t\tretry 3\n\t\t\tdelay_before_retry 3}}}\n",
        "$VIP=198.18.0.200\n$IF=eth0\n$MULTI=interface eth0 \\\n virtual_router_id 56\n"
            + "vrrp_instance VI_1 {\n@lb1 state MASTER\n@lb1 priority 100\n@lb2 state BACKUP\n@^lb1 priority 90\n"
            + " $MULTI\n virtual_ipaddress {\n  ${VIP}/24 dev $IF\n }\n}\nvirtual_server $VIP 8066 {\n protocol TCP\n}\n",
        "include conf.d/*.conf\ninclude vrrp.conf\n",
    ];

    [Fact]
    public void Ten_thousand_mutated_configs_only_ever_produce_located_diagnostics_quickly()
    {
        var gen = CaseGen();
        var slowest = new TimeSpan[Chunks];
        var refused = new int[Chunks];
        var clock = Stopwatch.StartNew();
        Parallel.For(0, Chunks, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, chunk =>
        {
            var pcg = new PCG((uint)chunk, RunSeed);
            for (int i = 0; i < Cases / Chunks; i++)
            {
                var mutant = gen.Generate(pcg, null, out _);
                var (result, took) = LoadWithinBound(mutant, $"chunk {chunk} case {i}");
                slowest[chunk] = took > slowest[chunk] ? took : slowest[chunk];
                refused[chunk] += result.HasErrors ? 1 : 0;
            }
        });

        output.WriteLine($"{Cases} mutated configs in {clock.Elapsed.TotalSeconds:F1} s; refused {refused.Sum()}, "
            + $"accepted {Cases - refused.Sum()}; slowest load {slowest.Max().TotalMilliseconds:F0} ms");
        Assert.True(refused.Sum() > Cases / 4, "the mutations should break most files");
        Assert.True(refused.Sum() < Cases, "some mutants should still be valid");
    }

    [Fact]
    public void Random_seeded_mutants_hold_the_same_properties()
    {
        // CsCheck's own random seeds, threads and shrinking; a failure prints a seed to replay with CsCheck_Seed.
        CaseGen().Sample(mutant => LoadWithinBound(mutant, "sample"), iter: 2_000, print: m => m.ToString());
    }

    [Fact]
    public void Blocks_nested_a_hundred_thousand_deep_are_an_error_not_a_stack_overflow()
    {
        // Regression: the parser recursed once per '{' and a deep enough file killed the process.
        foreach (string text in new[] { "vrrp_instance VI_1 {" + new string('{', 100_000), string.Concat(Enumerable.Repeat("x {\n", 50_000)) })
        {
            var result = ConfigLoader.LoadText(MainPath, text, null, InMemoryFiles.Of());
            var error = Assert.Single(result.Errors, e => e.Message.Contains("nested deeper than", StringComparison.Ordinal));
            Assert.True(error.Location.Line >= 1);
        }
    }

    [Fact]
    public void A_directory_of_files_that_all_include_each_other_is_an_error_not_a_hang()
    {
        // Regression: the cycle check stops self-inclusion, but 12 files each saying "include *.conf" had 12! acyclic
        // include paths (all under the depth limit) to read.
        var files = InMemoryFiles.Of([.. Enumerable.Range(0, 12).Select(i => ($"/etc/vipproxy/conf.d/{i:D2}.conf", "include *.conf\n"))]);
        var clock = Stopwatch.StartNew();
        var result = ConfigLoader.LoadText(MainPath, "include conf.d/*.conf\n" + ConfigAssert.MinimalInstance, null, files);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.Contains(result.Errors, e => e.Message.Contains($"more than {LexerOptions.MaxIncludedFiles} files included", StringComparison.Ordinal));
    }

    [Fact]
    public void An_include_path_with_a_NUL_character_is_an_error_not_an_exception()
    {
        // Regression: Path.GetFullPath threw ArgumentException ("Null character in path") out of the loader.
        foreach (string include in new[] { "include a\0b.conf", "include \"conf.d/\0*\"", "include \0" })
        {
            var result = ConfigLoader.LoadText(MainPath, include + "\n" + ConfigAssert.MinimalInstance, null, InMemoryFiles.Of());
            var error = Assert.Single(result.Errors);
            Assert.Contains("NUL character", error.Message, StringComparison.Ordinal);
            Assert.Equal((1, 9), (error.Location.Line, error.Location.Column));
        }
    }

    [Fact]
    public void A_file_including_itself_directly_or_by_glob_is_an_error()
    {
        foreach (string include in new[] { "include keepalived.conf", "include *", "include ./keepalived.conf", "include /etc/vipproxy/*.conf" })
        {
            var files = InMemoryFiles.Of((MainPath, include + "\n" + ConfigAssert.MinimalInstance));
            var result = ConfigLoader.Load(MainPath, null, files);
            Assert.Contains(result.Errors, e => e.Message.Contains("includes itself", StringComparison.Ordinal) && e.Location.Line == 1);
        }
    }

    /// <summary>
    /// Loads through the in-memory tree on a thread of its own, so a hang fails the test instead of stalling it (and the
    /// waiting pool thread cannot starve the load of a pool thread to run on).
    /// </summary>
    private static (ConfigLoadResult Result, TimeSpan Took) LoadWithinBound(Mutant mutant, string where)
    {
        var clock = Stopwatch.StartNew();
        var load = Task.Factory.StartNew(
            () => ConfigLoader.Load(MainPath, new ConfigLoadOptions(mutant.NodeId), mutant.Files()),
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        bool finished;
        try
        {
            finished = load.Wait(PerLoadBound * 2);
        }
        catch (AggregateException e)
        {
            throw new Xunit.Sdk.XunitException($"{where}: the loader threw {e.InnerException} on {mutant}");
        }

        var took = clock.Elapsed;
        if (!finished || took > PerLoadBound)
        {
            throw new Xunit.Sdk.XunitException($"{where}: the load took {took} (bound {PerLoadBound}) on {mutant}");
        }

        var result = load.Result;
        foreach (var diagnostic in result.Diagnostics)
        {
            var at = diagnostic.Location;
            if (string.IsNullOrEmpty(at.File) || at.Line < 1 || at.Column < 1)
            {
                throw new Xunit.Sdk.XunitException($"{where}: diagnostic without FILE:LINE:COLUMN: '{diagnostic}' on {mutant}");
            }
        }

        if (result.HasErrors != (result.Config is null))
        {
            throw new Xunit.Sdk.XunitException($"{where}: errors and a model together on {mutant}");
        }

        return (result, took);
    }

    private static Gen<Mutant> CaseGen() =>
        from seed in Gen.Int[0, Seeds.Length - 1]
        from mutations in Gen.Select(Gen.Int[0, MutationKinds - 1], Gen.Int, Gen.Int).Array[1, 6]
        from node in Gen.Int[0, 3]
        from includeSeed in Gen.Int[0, Seeds.Length - 1]
        from truncateInclude in Gen.Int[0, 10_000]
        let included = Seeds[includeSeed]
        select new Mutant(Seeds[seed], mutations, node switch { 0 => null, 1 => "lb1", 2 => "lb2", _ => "" }, included[..(truncateInclude % (included.Length + 1))]);

    private const int MutationKinds = 16;

    /// <summary>One mutated main file plus the tree around it.</summary>
    internal sealed record Mutant(string Seed, (int Kind, int A, int B)[] Mutations, string? NodeId, string IncludeSeed)
    {
        private string? _text;

        public string Text => _text ??= Mutate(Seed, Mutations);

        /// <summary>The mutant as the main file, a conf.d that includes back (one file a truncated seed), a vrrp.conf, all in memory.</summary>
        public InMemoryFiles Files() => InMemoryFiles.Of(
            (MainPath, Text),
            ("/etc/vipproxy/vrrp.conf", ConfigAssert.MinimalInstance),
            ("/etc/vipproxy/conf.d/a.conf", "include ../keepalived.conf\ninclude b.conf\n"),
            ("/etc/vipproxy/conf.d/b.conf", "include *.conf\n" + IncludeSeed),
            ("/etc/vipproxy/conf.d/c.conf", "$INC=conf.d\ninclude /etc/vipproxy/$INC/a.conf\n"));

        public override string ToString()
        {
            string shown = Text.Length > 2000 ? Text[..2000] + $"... ({Text.Length} chars)" : Text;
            return $"node '{NodeId}', mutations [{string.Join(", ", Mutations.Select(m => $"{(MutationKind)m.Kind}({m.A},{m.B})"))}]:\n{shown}";
        }
    }

    internal enum MutationKind
    {
        Truncate,
        DeleteToken,
        DuplicateToken,
        SwapTokens,
        DeleteChars,
        DuplicateChars,
        SwapChars,
        InsertRandomChars,
        InsertSpecial,
        InsertLine,
        LongLine,
        DeepNesting,
        EdgeValue,
        DuplicateLines,
        DeleteLines,
        CrLf,
    }

    private static readonly string[] Specials = ["{", "}", "\"", "\\", "#", "!", "$", "${", "}}", "{{", "@", "\\\n", "\0", "\t", "\r", "\u00e9", "\ud800", "\uffff"];

    private static readonly string[] Lines =
    [
        "include keepalived.conf", "include *", "include conf.d/*.conf", "include /etc/vipproxy/*", "include missing.conf",
        "include", "include a b", "include \"conf.d/[!a]*\"", "include [", "include ../../../*", "include /*", "include \"\"",
        "$A=1", "$A=$A $A", "$B=${A}${A}${A}", "$C=line1 \\", "$D=vrrp_instance X {", "$E=}", "$", "$=1", "${}", "$A", "${A}", "${B} ${B}",
        "@lb1 priority 200", "@^lb1 }", "@", "@^", "@lb2 {", "@ vrrp_instance",
        "vrrp_instance", "vrrp_instance {", "virtual_server {", "virtual_server 198.18.0.1 {", "real_server", "global_defs }",
        "\"unterminated", "\"a\\\"b\" {", "}}}}}", "{{{{{",
    ];

    private static readonly string[] EdgeValues =
    [
        "-1", "0", "255", "256", "65536", "4294967296", "99999999999999999999999999", "1e309", "NaN", "-0", "0x10", "1.5",
        "0.001", "255.255.255.256", "198.18.0.1/33", "198.18.0.1/-1", "::1", "", "\"\"", "eth0:", "/", "..", "*",
    ];

    private static string Mutate(string seed, (int Kind, int A, int B)[] mutations)
    {
        var text = new StringBuilder(seed);
        foreach (var (kind, rawA, rawB) in mutations)
        {
            int a = rawA & int.MaxValue, b = rawB & int.MaxValue;
            int at = text.Length == 0 ? 0 : a % (text.Length + 1);
            switch ((MutationKind)kind)
            {
                case MutationKind.Truncate:
                    text.Length = at;
                    break;
                case MutationKind.DeleteToken:
                case MutationKind.DuplicateToken:
                case MutationKind.SwapTokens:
                case MutationKind.EdgeValue:
                    EditTokens(text, (MutationKind)kind, a, b);
                    break;
                case MutationKind.DeleteChars:
                    text.Remove(at, Math.Min(1 + (b % 8), text.Length - at));
                    break;
                case MutationKind.DuplicateChars:
                    text.Insert(at, text.ToString(at, Math.Min(1 + (b % 40), text.Length - at)));
                    break;
                case MutationKind.SwapChars:
                    if (text.Length > 1)
                    {
                        int other = b % text.Length, here = a % text.Length;
                        (text[here], text[other]) = (text[other], text[here]);
                    }

                    break;
                case MutationKind.InsertRandomChars:
                    var random = new Random(b);
                    var inserted = new char[1 + (a % 12)];
                    for (int i = 0; i < inserted.Length; i++)
                    {
                        inserted[i] = (char)(b % 2 == 0 ? random.Next(0, 256) : random.Next(0, 0x10000));
                    }

                    text.Insert(at, inserted);
                    break;
                case MutationKind.InsertSpecial:
                    text.Insert(at, Specials[b % Specials.Length]);
                    break;
                case MutationKind.InsertLine:
                    text.Insert(LineStart(text, at), Lines[b % Lines.Length] + "\n");
                    break;
                case MutationKind.LongLine:
                    string unit = (b % 4) switch { 0 => "x", 1 => "{", 2 => "9", _ => "$A " };
                    text.Insert(LineStart(text, at), "priority " + string.Concat(Enumerable.Repeat(unit, 1000 + (b % 10_000))) + "\n");
                    break;
                case MutationKind.DeepNesting:
                    int depth = 10 + (b % 300); // past MaxBlockDepth often; the 100,000-deep case has its own test
                    text.Insert(LineStart(text, at), string.Concat(Enumerable.Repeat(b % 2 == 0 ? "vrrp_instance V {\n" : "x {\n", depth))
                        + (a % 2 == 0 ? new string('}', depth) + "\n" : ""));
                    break;
                case MutationKind.DuplicateLines:
                    int start = LineStart(text, at);
                    int end = LineStart(text, Math.Min(text.Length, start + 1 + (b % 400)));
                    text.Insert(start, text.ToString(start, end - start));
                    break;
                case MutationKind.DeleteLines:
                    int from = LineStart(text, at);
                    int to = LineStart(text, Math.Min(text.Length, from + 1 + (b % 400)));
                    text.Remove(from, to - from);
                    break;
                case MutationKind.CrLf:
                    text.Replace("\n", b % 2 == 0 ? "\r\n" : "\r");
                    break;
                default:
                    throw new InvalidOperationException("mutation " + kind);
            }
        }

        return text.ToString();
    }

    private static int LineStart(StringBuilder text, int at)
    {
        while (at > 0 && at <= text.Length && text[at - 1] != '\n')
        {
            at--;
        }

        return Math.Min(at, text.Length);
    }

    /// <summary>Token-level edits: tokens are maximal runs of non-whitespace.</summary>
    private static void EditTokens(StringBuilder text, MutationKind kind, int a, int b)
    {
        var tokens = new List<(int Start, int Length)>();
        for (int i = 0; i < text.Length;)
        {
            if (char.IsWhiteSpace(text[i]))
            {
                i++;
                continue;
            }

            int start = i;
            while (i < text.Length && !char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            tokens.Add((start, i - start));
        }

        if (tokens.Count == 0)
        {
            return;
        }

        var (s, l) = tokens[a % tokens.Count];
        switch (kind)
        {
            case MutationKind.DeleteToken:
                text.Remove(s, l);
                break;
            case MutationKind.DuplicateToken:
                text.Insert(s, text.ToString(s, l) + " ");
                break;
            case MutationKind.EdgeValue:
                text.Remove(s, l).Insert(s, EdgeValues[b % EdgeValues.Length]);
                break;
            default:
                var (s2, l2) = tokens[b % tokens.Count];
                if (s2 == s)
                {
                    return;
                }

                var (first, second) = s < s2 ? ((s, l), (s2, l2)) : ((s2, l2), (s, l));
                string one = text.ToString(first.Item1, first.Item2), two = text.ToString(second.Item1, second.Item2);
                text.Remove(second.Item1, second.Item2).Insert(second.Item1, one);
                text.Remove(first.Item1, first.Item2).Insert(first.Item1, two);
                break;
        }
    }
}
