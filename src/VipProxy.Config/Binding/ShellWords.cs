using System.Text;

namespace VipProxy.Config.Binding;

/// <summary>
/// Splits a command line the way keepalived splits script values: whitespace separates words,
/// <c>'…'</c> is literal, <c>"…"</c> allows <c>\"</c> and <c>\\</c>, a backslash outside quotes escapes the next
/// character. Nothing is expanded: the words go to execve as they are.
/// </summary>
public static class ShellWords
{
    public static bool TrySplit(string text, out List<string> words, out string? problem)
    {
        words = [];
        problem = null;
        var word = new StringBuilder();
        bool inWord = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            switch (c)
            {
                case ' ' or '\t':
                    if (inWord)
                    {
                        words.Add(word.ToString());
                        word.Clear();
                        inWord = false;
                    }

                    break;
                case '\'':
                    int close = text.IndexOf('\'', i + 1);
                    if (close < 0)
                    {
                        problem = "a closing ' is missing";
                        return false;
                    }

                    word.Append(text, i + 1, close - i - 1);
                    inWord = true;
                    i = close;
                    break;
                case '"':
                    inWord = true;
                    i++;
                    while (i < text.Length && text[i] != '"')
                    {
                        if (text[i] == '\\' && i + 1 < text.Length && text[i + 1] is '"' or '\\' or '$' or '`')
                        {
                            i++;
                        }

                        word.Append(text[i]);
                        i++;
                    }

                    if (i >= text.Length)
                    {
                        problem = "a closing \" is missing";
                        return false;
                    }

                    break;
                case '\\' when i + 1 < text.Length:
                    word.Append(text[++i]);
                    inWord = true;
                    break;
                default:
                    word.Append(c);
                    inWord = true;
                    break;
            }
        }

        if (inWord)
        {
            words.Add(word.ToString());
        }

        return true;
    }
}
