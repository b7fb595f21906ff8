using System.CommandLine;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using VipProxy.Config;
using VipProxy.Host;

namespace VipProxy.Cli.Commands;

/// <summary>
/// <c>vipproxy manual 8|5</c> (hidden): writes vipproxy(8) from the command tree this binary parses with, and
/// vipproxy.conf(5) from the config binder's keyword tables plus the commented reference file, so neither page can
/// list a command, option or keyword the binary does not have, or miss one it does. scripts/package.sh installs
/// the output; a test lints it with mandoc and compares it with the tables.
/// </summary>
internal static partial class ManualCommand
{
    public static Command Create(RootCommand root)
    {
        var section = new Argument<int>("section") { Description = "8: the program, 5: the configuration file." };
        section.AcceptOnlyFromAmong("5", "8");
        var command = new Command("manual", "Print a man page in roff (8: vipproxy, 5: vipproxy.conf).") { section };
        command.Hidden = true;
        command.SetAction(result =>
        {
            Console.Out.Write(result.GetValue(section) == 8 ? ProgramPage(root) : ConfigPage());
            return 0;
        });
        return command;
    }

    private static string Version =>
        typeof(ManualCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0";

    // The page date is the build's, not today's, so the same binary always writes the same page.
    private static string Date => File.Exists(Environment.ProcessPath)
        ? File.GetLastWriteTimeUtc(Environment.ProcessPath!).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
        : "2026-12-03";

    public static string ProgramPage(RootCommand root)
    {
        var page = new StringBuilder();
        page.Append(CultureInfo.InvariantCulture, $".TH VIPPROXY 8 {Date} \"vipproxy {Escape(Version)}\" \"System Administration\"\n");
        page.Append(".SH NAME\nvipproxy \\- Layer-4 TCP load balancer with VRRP virtual-IP failover\n");
        page.Append(".SH SYNOPSIS\n");
        bool first = true;
        foreach ((string name, Command command) in Documented(root))
        {
            if (!first)
            {
                page.Append(".br\n");
            }

            first = false;
            page.Append(".B vipproxy ").Append(Escape(name)).Append('\n');
            foreach (Argument argument in command.Arguments)
            {
                page.Append(".I ").Append(Escape(argument.Name.ToUpperInvariant())).Append('\n');
            }

            page.Append(".RI [ options ]\n");
        }

        page.Append(".SH DESCRIPTION\n");
        page.Append(Escape(root.Description ?? "")).Append('\n');
        page.Append(".PP\nOne process does what keepalived plus HAProxy or LVS do in front of MySQL: VRRP (RFC 3768, RFC 5798) " +
                    "elects a master that holds the virtual addresses, every node forwards TCP connections to healthy real " +
                    "servers, and the configuration is a keepalived.conf file, see\n.BR vipproxy.conf (5).\n");
        page.Append(".SH COMMANDS\n");
        foreach ((string name, Command command) in Documented(root))
        {
            page.Append(".SS \"vipproxy ").Append(Escape(name)).Append("\"\n");
            page.Append(Escape(command.Description ?? "")).Append('\n');
            foreach (Argument argument in command.Arguments)
            {
                page.Append(".TP\n.I ").Append(Escape(argument.Name.ToUpperInvariant())).Append('\n')
                    .Append(Escape(argument.Description ?? "")).Append('\n');
            }

            foreach (Option option in command.Options.Where(o => !o.Hidden && o.Name != "--help"))
            {
                page.Append(".TP\n");
                var names = new[] { option.Name }.Concat(option.Aliases.Where(a => a.StartsWith('-'))).OrderBy(n => n.Length).ToList();
                string value = option.ValueType == typeof(bool) ? "" : $" \\fI{Escape(OptionValueName(option))}\\fR";
                page.Append(string.Join(", ", names.Select(n => $"\\fB{Escape(n)}\\fR"))).Append(value).Append('\n');
                page.Append(Escape(option.Description ?? "")).Append('\n');
            }
        }

        page.Append(".SH EXIT STATUS\n");
        page.Append(".TP\n.B ").Append(Daemon.ExitOk).Append("\nSuccess: the file is valid (check), the node stopped cleanly (run), the node answered (status), nothing on this host blocks the file (doctor).\n");
        page.Append(".TP\n.B ").Append(Daemon.ExitInvalidConfig).Append("\nThe configuration file has errors, each printed as FILE:LINE:COL; or no node answers on the control socket; or doctor found a problem that blocks (each printed with its fix); or the command line is wrong.\n");
        page.Append(".TP\n.B ").Append(Daemon.ExitMissingPrerequisite).Append("\nrun: the host lacks what the file needs (a capability, an interface, a free port), printed with the fix.\n");
        page.Append(".SH SIGNALS\n");
        page.Append(".TP\n.B SIGHUP\nReload the file: validate it completely, then apply only the differences; on any error keep running the old configuration and log every error (systemctl reload).\n");
        page.Append(".TP\n.BR SIGTERM \", \" SIGINT\nStop. With \\fB\\-\\-handover immediate\\fR (the default) send priority 0 at once so the backup takes the VIP, then drain; with \\fB\\-\\-handover after\\-drain\\fR keep serving until the open connections end or \\fB\\-\\-drain\\-timeout\\fR passes.\n");
        page.Append(".SH FILES\n");
        page.Append(".TP\n.I /etc/vipproxy/vipproxy.conf\nThe configuration, see\n.BR vipproxy.conf (5).\n");
        page.Append(".TP\n.I ").Append(Escape(VipProxy.Host.Control.ControlSocketServer.DefaultPath)).Append("\nThe control socket that \\fBstatus\\fR, \\fBserver\\fR, \\fBconnections\\fR and \\fBvrrp\\fR talk to (mode 0600).\n");
        page.Append(".TP\n.I ").Append(Escape(VipProxy.Config.Model.GlobalDefinitions.DefaultStateFile))
            .Append("\nThe operator's runtime state (drained, disabled and re-weighted real servers, demoted instances), kept across reload and restart; \\fBstate_file\\fR in \\fBglobal_defs\\fR moves it.\n");
        page.Append(".TP\n.I /var/lib/vipproxy\nState kept across restarts.\n");
        page.Append(".SH SEE ALSO\n.BR vipproxy.conf (5),\n.BR keepalived (8),\n.BR haproxy (1)\n");
        return page.ToString();
    }

    public static string ConfigPage()
    {
        IReadOnlyDictionary<string, string> notes = ReferenceNotes();
        var page = new StringBuilder();
        page.Append(CultureInfo.InvariantCulture, $".TH VIPPROXY.CONF 5 {Date} \"vipproxy {Escape(Version)}\" \"File Formats\"\n");
        page.Append(".SH NAME\nvipproxy.conf \\- VipProxy configuration in keepalived.conf syntax\n");
        page.Append(".SH DESCRIPTION\n");
        page.Append("The file is written in the syntax of keepalived.conf(5): blocks in braces, one keyword per line, " +
                    "# and ! comments, include, @ID line prefixes and $NAME definitions. " +
                    "\\fBvipproxy check \\-f FILE\\fR validates it and reports every error with FILE:LINE:COL.\n");
        page.Append(".PP\nEvery block and keyword the parser accepts is listed below, with its meaning and default where the " +
                    "reference file gives one (/usr/share/doc/vipproxy/examples/reference.conf).\n");
        foreach (ConfigBlockKeywords block in ConfigKeywords.Blocks)
        {
            page.Append(".SH ").Append(block.Block == "the top level" ? "\"TOP LEVEL\"" : Escape(block.Block)).Append('\n');
            foreach (string keyword in block.Keywords)
            {
                page.Append(".TP\n.B ").Append(Escape(keyword)).Append('\n');
                page.Append(notes.TryGetValue($"{block.Block}/{keyword}", out string? note) || notes.TryGetValue($"*/{keyword}", out note)
                    ? Escape(note)
                    : "As in keepalived.conf(5).").Append('\n');
            }
        }

        page.Append(".SH \"DIFFERENCES FROM KEEPALIVED\"\n");
        page.Append(".SS \"Refused keywords\"\nThese keepalived keywords are errors, so a file never silently loses a feature:\n");
        foreach ((string keyword, string why) in ConfigKeywords.Refused.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            page.Append(".TP\n.B ").Append(Escape(keyword)).Append('\n').Append(Escape(why)).Append('\n');
        }

        page.Append(".SS \"Ignored keywords\"\nThese are accepted with a warning and have no effect:\n");
        foreach ((string keyword, string why) in ConfigKeywords.Ignored.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            page.Append(".TP\n.B ").Append(Escape(keyword)).Append('\n').Append(Escape(why)).Append('\n');
        }

        page.Append(".SH \"SEE ALSO\"\n.BR vipproxy (8),\n.BR keepalived.conf (5)\n");
        return page.ToString();
    }

    private static IEnumerable<Command> Visible(Command root) => root.Subcommands.Where(c => !c.Hidden);

    /// <summary>Every visible command with its full name ("server drain"), parents before their subcommands.</summary>
    private static IEnumerable<(string Name, Command Command)> Documented(Command root)
    {
        foreach (Command command in Visible(root))
        {
            yield return (command.Name, command);
            foreach ((string name, Command subcommand) in Documented(command))
            {
                yield return ($"{command.Name} {name}", subcommand);
            }
        }
    }

    private static string OptionValueName(Option option) => option.HelpName ?? option.Name.TrimStart('-').ToUpperInvariant();

    // roff: a backslash is \e, a hyphen in a name is \-, and a line may not start with a control character.
    private static string Escape(string text)
    {
        string escaped = text.Replace("\\", "\\e", StringComparison.Ordinal).Replace("-", "\\-", StringComparison.Ordinal);
        return escaped.Length > 0 && (escaped[0] == '.' || escaped[0] == '\'') ? "\\&" + escaped : escaped;
    }

    /// <summary>"block/keyword" (and "*/keyword") → the trailing comment of that line in conf/reference.conf.</summary>
    private static Dictionary<string, string> ReferenceNotes()
    {
        var notes = new Dictionary<string, string>(StringComparer.Ordinal);
        using Stream? stream = typeof(ManualCommand).Assembly.GetManifestResourceStream("reference.conf");
        if (stream is null)
        {
            return notes;
        }

        using var reader = new StreamReader(stream);
        var blocks = new Stack<string>();
        string? lastKey = null;
        while (reader.ReadLine() is { } line)
        {
            // A line that is only a comment, right after a commented keyword, continues that keyword's text.
            Match continuation = ContinuationLine().Match(line);
            if (continuation.Success && lastKey is not null)
            {
                notes[lastKey] = $"{notes[lastKey]} {continuation.Groups["text"].Value.Trim()}";
                notes[$"*/{lastKey[(lastKey.IndexOf('/', StringComparison.Ordinal) + 1)..]}"] = notes[lastKey];
                continue;
            }

            lastKey = null;
            Match statement = ReferenceLine().Match(line);
            if (statement.Success)
            {
                string keyword = statement.Groups["keyword"].Value;
                string block = blocks.Count > 0 ? blocks.Peek() : "the top level";
                string comment = statement.Groups["comment"].Value.Trim();
                if (comment.Length > 0 && notes.TryAdd($"{block}/{keyword}", comment))
                {
                    notes.TryAdd($"*/{keyword}", comment);
                    lastKey = $"{block}/{keyword}";
                }

                if (statement.Groups["open"].Success)
                {
                    blocks.Push(keyword);
                }
            }

            int closes = line.Split('#')[0].Count(c => c == '}');
            for (int i = 0; i < closes && blocks.Count > 0; i++)
            {
                blocks.Pop();
            }
        }

        return notes;
    }

    // "keyword args { # text" or "! keyword # text" (a commented-out optional keyword still documents itself).
    [GeneratedRegex(@"^\s*(?:!\s*)?(?<keyword>[A-Za-z_][A-Za-z0-9_]*)\b[^#{]*(?<open>\{)?[^#]*(#\s*(?<comment>.*))?$")]
    private static partial Regex ReferenceLine();

    [GeneratedRegex(@"^\s+#(?<text>.*)$")]
    private static partial Regex ContinuationLine();
}
