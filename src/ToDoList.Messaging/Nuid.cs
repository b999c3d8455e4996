using System.Security.Cryptography;

namespace ToDoList.Messaging;

/// <summary>
/// Unique ids without a system call per id, as NATS makes them: a random prefix renewed
/// rarely, followed by a sequence with a random increment. 22 characters of base 62.
/// </summary>
public static class Nuid
{
    private const string Digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private const int PrefixLength = 12;
    private const int SequenceLength = 10;
    private const long MaxSequence = 839299365868340224L; // 62^10

    [ThreadStatic]
    private static State? t_state;

    public static string Next()
    {
        var state = t_state ??= new State();
        return state.Next();
    }

    private sealed class State
    {
        private readonly char[] _prefix = new char[PrefixLength];
        private long _sequence;
        private long _increment;

        public State() => Renew();

        public string Next()
        {
            _sequence += _increment;
            if (_sequence >= MaxSequence)
            {
                Renew();
            }

            return string.Create(PrefixLength + SequenceLength, this, static (span, self) =>
            {
                self._prefix.CopyTo(span);
                var value = self._sequence;
                for (var i = span.Length - 1; i >= PrefixLength; i--)
                {
                    span[i] = Digits[(int)(value % 62)];
                    value /= 62;
                }
            });
        }

        private void Renew()
        {
            Span<byte> random = stackalloc byte[PrefixLength];
            RandomNumberGenerator.Fill(random);
            for (var i = 0; i < PrefixLength; i++)
            {
                _prefix[i] = Digits[random[i] % 62];
            }

            _sequence = Random.Shared.NextInt64(MaxSequence / 2);
            _increment = Random.Shared.Next(33, 333);
        }
    }
}
