using System.CommandLine;
using System.Diagnostics;
using System.Text.RegularExpressions;
using VipProxy.Cli.Commands;
using VipProxy.Config;

namespace VipProxy.Host.Tests;

/// <summary>
/// Issue 20's man pages and completion: the pages come from the command tree and the keyword tables, lint clean
/// with mandoc, and list everything the binary accepts; the bash script really completes in bash.
/// </summary>
public sealed partial class ManualAndCompletionTests
{
    private static readonly string Binary = Path.Combine(AppContext.BaseDirectory, "vipproxy");

    [Theory]
    [InlineData("8")]
    [InlineData("5")]
    public async Task Both_man_pages_lint_clean_with_mandoc(string section)
    {
        string page = await RunAsync(Binary, "manual", section);
        string file = Path.Combine(Path.GetTempPath(), $"vipproxy-test-{Environment.ProcessId}.{section}");
        await File.WriteAllTextAsync(file, page);
        try
        {
            // -W warning: any warning (not only errors) is reported, and mandoc exits non-zero on it.
            string lint = await RunAsync("mandoc", "-T", "lint", "-W", "warning", file);
            Assert.Equal("", lint);
            string rendered = await RunAsync("mandoc", "-T", "utf8", file);
            Assert.Contains(section == "8" ? "VIPPROXY(8)" : "VIPPROXY.CONF(5)", rendered, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task The_program_page_lists_every_visible_command_and_option()
    {
        string page = Plain(await RunAsync(Binary, "manual", "8"));
        RootCommand root = CommandTree();
        foreach (Command command in root.Subcommands.Where(c => !c.Hidden))
        {
            Assert.Contains($"vipproxy {command.Name}", page, StringComparison.Ordinal);
            foreach (Option option in command.Options.Where(o => !o.Hidden && o.Name != "--help"))
            {
                Assert.Contains(option.Name, page, StringComparison.Ordinal);
            }
        }

        foreach (string heading in new[] { "EXIT STATUS", "SIGNALS", "FILES", "SIGHUP", "SIGTERM", "/etc/vipproxy/vipproxy.conf" })
        {
            Assert.Contains(heading, page, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("vipproxy manual", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_config_page_lists_every_keyword_of_every_block_and_every_refused_one()
    {
        string page = Plain(await RunAsync(Binary, "manual", "5"));
        var headings = Heading().Matches(page).Select(m => m.Groups[1].Value).ToList();
        var entries = Entry().Matches(page).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        Assert.True(ConfigKeywords.Blocks.Count >= 10, $"only {ConfigKeywords.Blocks.Count} keyword tables");
        foreach (ConfigBlockKeywords block in ConfigKeywords.Blocks)
        {
            Assert.Contains(block.Block == "the top level" ? "TOP LEVEL" : block.Block, headings);
            foreach (string keyword in block.Keywords)
            {
                Assert.Contains(keyword, entries);
            }
        }

        foreach (string refused in ConfigKeywords.Refused.Keys.Concat(ConfigKeywords.Ignored.Keys))
        {
            Assert.Contains(refused, entries);
        }

        // The page documents defaults from the reference file, e.g. delay_loop's.
        Assert.Contains("seconds between health checks. Default: 60", page, StringComparison.Ordinal);

        // Every keyword has its own text from conf/reference.conf: none falls back to a pointer at keepalived's page.
        Assert.DoesNotContain("As in keepalived.conf(5)", page, StringComparison.Ordinal);

        // And it names nothing the binder does not know: every .TP entry is a keyword, refused or ignored.
        var known = ConfigKeywords.Blocks.SelectMany(b => b.Keywords).Concat(ConfigKeywords.Refused.Keys).Concat(ConfigKeywords.Ignored.Keys).ToHashSet(StringComparer.Ordinal);
        Assert.Empty(entries.Except(known));
    }

    [Fact]
    public async Task The_bash_script_completes_commands_and_options_from_the_binary()
    {
        string script = await RunAsync(Binary, "completion", "bash");
        Assert.Contains("complete -o default", script, StringComparison.Ordinal);
        string directory = Path.GetDirectoryName(Binary)!;

        // Load the script in a real bash and call the completion function the way readline does.
        async Task<string[]> CompleteAsync(string line)
        {
            string program = $$"""
                set -e
                export PATH={{directory}}:$PATH
                source <(vipproxy completion bash)
                COMP_LINE='{{line}}'
                COMP_POINT=${#COMP_LINE}
                read -ra COMP_WORDS <<< "$COMP_LINE"
                [[ $COMP_LINE == *' ' ]] && COMP_WORDS+=('')
                COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
                _vipproxy
                printf '%s\n' "${COMPREPLY[@]}"
                """;
            return (await RunAsync("bash", "-c", program)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        }

        Assert.Equal(["status"], await CompleteAsync("vipproxy sta"));
        Assert.Equal(["completion"], await CompleteAsync("vipproxy comp"));
        string[] statusOptions = await CompleteAsync("vipproxy status --");
        Assert.Contains("--json", statusOptions);
        Assert.Contains("--socket", statusOptions);
        Assert.DoesNotContain(statusOptions, o => o.StartsWith('/'));
        Assert.Contains("--dump", await CompleteAsync("vipproxy check --d"));
        Assert.Equal(["bash"], await CompleteAsync("vipproxy completion ba"));
        Assert.Equal(["doctor"], await CompleteAsync("vipproxy doc"));
        Assert.Contains("--listen", await CompleteAsync("vipproxy doctor --"));
        string[] commands = await CompleteAsync("vipproxy ");
        Assert.Contains("run", commands);
        Assert.DoesNotContain("manual", commands);
    }

    [Theory]
    [InlineData("zsh")]
    [InlineData("fish")]
    public async Task The_zsh_and_fish_scripts_ask_the_binary(string shell)
    {
        string script = await RunAsync(Binary, "completion", shell);
        Assert.Contains("[suggest:", script, StringComparison.Ordinal);
        Assert.Contains(shell == "zsh" ? "compdef _vipproxy vipproxy" : "complete -c vipproxy", script, StringComparison.Ordinal);
    }

    private static RootCommand CommandTree()
    {
        var root = new RootCommand { CheckCommand.Create(), RunCommand.Create(), StatusCommand.Create(), DemoCommand.Create(), CompletionCommand.Create(), ImportCommand.Create(), DoctorCommand.Create() };
        return root;
    }

    // The page's text without roff escapes, enough to search for names.
    private static string Plain(string roff) => roff.Replace("\\-", "-", StringComparison.Ordinal).Replace("\\&", "", StringComparison.Ordinal)
        .Replace("\\fB", "", StringComparison.Ordinal).Replace("\\fI", "", StringComparison.Ordinal).Replace("\\fR", "", StringComparison.Ordinal)
        .Replace("\\e", "\\", StringComparison.Ordinal);

    private static async Task<string> RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);
        string output = await stdout;
        string errors = await stderr;
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)} exited {process.ExitCode}: {output}{errors}");
        return output + errors;
    }

    [GeneratedRegex(@"^\.SH ""?([^""\n]+)""?$", RegexOptions.Multiline)]
    private static partial Regex Heading();

    [GeneratedRegex(@"^\.TP\n\.B (\S+)$", RegexOptions.Multiline)]
    private static partial Regex Entry();
}
