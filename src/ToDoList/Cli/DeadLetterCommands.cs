using System.CommandLine;
using System.Globalization;
using ToDoList.Messaging;
using ToDoList.Messaging.DeadLetters;

namespace ToDoList.Cli;

/// <summary>
/// <c>todo mq deadletters list|show|replay|delete</c>: the dead letters of any transport, asked over the queue of the
/// process that keeps them (todo-web, or the all-in-one <c>todo</c>).
/// </summary>
public static class DeadLetterCommands
{
    private const string NobodyKeepsThem =
        "No dead letter keeper answered: todo-web (or the all-in-one todo) keeps them; start one on this queue. " +
        "Dead letters wait in the queue meanwhile. The in-process queue (embedded://) is reachable only from its own process: use its /diagnostics page.";

    public static Command Create()
    {
        var command = new Command("deadletters", "List, inspect, replay or delete dead letters: messages that failed every try.");
        command.Subcommands.Add(List());
        command.Subcommands.Add(Show());
        command.Subcommands.Add(ReplayOrDelete("replay", "Publish it again on its subject, as it first came, and forget it.", (admin, id, subject, ct) => admin.ReplayAsync(id, subject, ct), "Replayed"));
        command.Subcommands.Add(ReplayOrDelete("delete", "Forget it for good.", (admin, id, subject, ct) => admin.DeleteAsync(id, subject, ct), "Deleted"));
        return command;
    }

    private static Command List()
    {
        var subject = new Option<string?>("--subject", "-s") { Description = "Only those first published on this subject (wildcards * and >)." };
        var limit = new Option<int?>("--limit", "-n") { Description = "At most this many, oldest first." };
        var command = new Command("list", "One line per dead letter, oldest first: id, time, subject, group, tries, error.") { subject, limit };
        command.SetAction((result, ct) => WithAdminAsync(result, async admin =>
        {
            var letters = await admin.ListAsync(result.GetValue(subject), result.GetValue(limit), ct);
            foreach (var letter in letters)
            {
                Console.WriteLine(string.Join('\t', letter.Id, letter.Time.ToString("u", CultureInfo.InvariantCulture), letter.Subject, letter.QueueGroup ?? "-", letter.Attempts, letter.Error));
            }

            Console.Error.WriteLine($"{letters.Count} dead letter{(letters.Count == 1 ? "" : "s")}");
            return 0;
        }));
        return command;
    }

    private static Command Show()
    {
        var id = new Argument<string>("id") { Description = "The dead letter's id, as list prints it." };
        var command = new Command("show", "Everything about one dead letter: why it failed, its headers and its data.") { id };
        command.SetAction((result, ct) => WithAdminAsync(result, async admin =>
        {
            if (await admin.ShowAsync(result.GetValue(id)!, ct) is not { } detail)
            {
                Console.Error.WriteLine($"No dead letter {result.GetValue(id)}.");
                return 1;
            }

            var letter = detail.Letter;
            Console.WriteLine($"id:       {letter.Id}");
            Console.WriteLine($"subject:  {letter.Subject}");
            Console.WriteLine($"event id: {letter.EventId ?? "-"}");
            Console.WriteLine($"group:    {letter.QueueGroup ?? "-"}");
            Console.WriteLine($"tries:    {letter.Attempts}");
            Console.WriteLine($"time:     {letter.Time.ToString("O", CultureInfo.InvariantCulture)}");
            Console.WriteLine($"error:    {letter.Error}");
            Console.WriteLine("headers:");
            foreach (var (name, value) in detail.Headers)
            {
                Console.WriteLine($"  {name}: {value}");
            }

            Console.WriteLine($"data ({letter.Size} B):");
            Console.WriteLine(detail.Data);
            return 0;
        }));
        return command;
    }

    private static Command ReplayOrDelete(string name, string description, Func<DeadLetterAdmin, string?, string?, CancellationToken, Task<int>> act, string done)
    {
        var id = new Argument<string?>("id") { Description = "The dead letter's id, as list prints it.", Arity = ArgumentArity.ZeroOrOne };
        var all = new Option<bool>("--all") { Description = "Every dead letter (of --subject when given)." };
        var subject = new Option<string?>("--subject", "-s") { Description = "With --all: only those first published on this subject (wildcards * and >)." };
        var command = new Command(name, $"{description} Give an id, or --all.") { id, all, subject };
        command.SetAction((result, ct) => WithAdminAsync(result, async admin =>
        {
            var one = result.GetValue(id);
            if ((one is null) != result.GetValue(all) || (one is not null && result.GetValue(subject) is not null))
            {
                Console.Error.WriteLine($"todo mq deadletters {name}: give one id, or --all (optionally with --subject).");
                return 2;
            }

            var count = await act(admin, one, result.GetValue(subject), ct);
            Console.WriteLine($"{done} {count} dead letter{(count == 1 ? "" : "s")}.");
            return one is not null && count == 0 ? 1 : 0;
        }));
        return command;
    }

    private static Task<int> WithAdminAsync(ParseResult result, Func<DeadLetterAdmin, Task<int>> action) =>
        MqCommands.WithBusAsync(result, async bus =>
        {
            try
            {
                return await action(new DeadLetterAdmin(bus));
            }
            catch (Exception e) when (e is NoRespondersException or RequestTimeoutException)
            {
                Console.Error.WriteLine(NobodyKeepsThem);
                return MqCommands.NoResponders;
            }
        });
}
