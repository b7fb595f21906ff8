using System.Text;
using VipProxy.Config.Diagnostics;

namespace VipProxy.Config.Syntax;

/// <summary>
/// A line of text whose characters remember the column they came from, so that errors point at the
/// original file even after comments were cut and <c>$NAME</c> references were expanded.
/// </summary>
internal readonly struct MappedLine
{
    private readonly int[]? _columns; // null: character i is at column i + 1.

    public MappedLine(string file, int line, string text)
        : this(file, line, text, null)
    {
    }

    private MappedLine(string file, int line, string text, int[]? columns)
    {
        File = file;
        Line = line;
        Text = text;
        _columns = columns;
    }

    public string File { get; }

    public int Line { get; }

    public string Text { get; }

    public int ColumnOf(int index)
    {
        if (_columns is null)
        {
            return index + 1;
        }

        if (index < _columns.Length)
        {
            return _columns[index];
        }

        return _columns.Length == 0 ? 1 : _columns[^1] + 1;
    }

    public SourceLocation LocationAt(int index) => new(File, Line, ColumnOf(index));

    /// <summary>Replaces characters [start, end) by spaces, keeping every column where it was.</summary>
    public MappedLine Blank(int start, int end)
    {
        var chars = Text.ToCharArray();
        Array.Fill(chars, ' ', start, end - start);
        return new MappedLine(File, Line, new string(chars), _columns);
    }

    /// <summary>The text from <paramref name="start"/> on, each character still at its column.</summary>
    public MappedLine Slice(int start)
    {
        var builder = new Builder(File, Line);
        for (int i = start; i < Text.Length; i++)
        {
            builder.Append(Text[i], ColumnOf(i));
        }

        return builder.Build();
    }

    public sealed class Builder(string file, int line)
    {
        private readonly StringBuilder _text = new();
        private readonly List<int> _columns = [];

        public void Append(char c, int column)
        {
            _text.Append(c);
            _columns.Add(column);
        }

        public MappedLine Build() => new(file, line, _text.ToString(), [.. _columns]);
    }
}
