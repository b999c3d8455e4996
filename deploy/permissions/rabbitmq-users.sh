#!/bin/sh
# One RabbitMQ user per ToDoList role in vhost "todo", each allowed only what its code does (docs/security.md).
#   TODO_WEB_PASSWORD=… TODO_API_PASSWORD=… TODO_SAVE_HANDLER_PASSWORD=… TODO_AUDIT_HANDLER_PASSWORD=… \
#   TODO_ADMIN_PASSWORD=… sh rabbitmq-users.sh        (on the broker: docker compose exec message-queue sh …)
# Roles then connect as MessageQueue__Url=amqp://todo-api:PASSWORD@message-queue:5672/todo
# Passwords are read from the environment and handed to `rabbitmqctl import_definitions` on standard input,
# never on a command line. Running it again updates passwords and permissions (an import merges).
#
# RabbitMQ checks names with regular expressions: configure (declare, delete) and write (publish; bind a queue) and
# read (consume, get; bind from an exchange) on exchanges and queues, and, for the topic exchange "todo", topic
# permissions on routing keys: write for a publish's subject, read for a binding's pattern.
# How subjects map: every publish goes to exchange "todo" with the subject as routing key; a durable group g is
# queue g (plus g.subject, holding its subject, written through the default exchange); a plain subscription is a
# server-named exclusive queue amq.gen-…; a queue group is queue group@subject; a handler's retry waits in g.delay.N.
set -eu
ctl=${RABBITMQCTL:-rabbitmqctl}
vhost=${TODO_VHOST:-todo}

groups='save-handler|audit-handler|complete-item|delete-item|deadletters'
# Every role declares every durable group at start (src/ToDoList/Hosting/TodoTopology.cs), whichever starts first:
# it may make the queues, bind them (write on the queue), write and read g.subject. And read the group queues
# themselves: RabbitMQ refuses to declare a queue with x-dead-letter-exchange (as the transport does) to a user who
# may not read it. So on RabbitMQ a role could consume another role's group; NATS and Redis refuse that.
topology_configure="todo|($groups)(\\.subject)?"
topology_write="todo|amq\\.default|$groups"
topology_read="todo|($groups)(\\.subject)?"
topology_bindings='events\.todo\.newitem|commands\.todo\.(complete|delete)|deadletter\.\*\.#'
# Every role: replies to its inbox (_INBOX.id.*) and the diagnostics page's scatter-gather, each on an amq.gen- queue.
plain_queues='amq\.gen-.*'
every_role_binds="$topology_bindings|diagnostics\\.instances|_INBOX\\..+"

json_string() { printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'; }

users='' permissions='' topics=''
# user NAME PASSWORD configure write read topic-write topic-read
user() {
  password=$(eval "printf '%s' \"\${$2:?set $2}\"")
  users="$users${users:+,}{\"name\":\"$1\",\"password\":\"$(json_string "$password")\",\"tags\":\"\"}"
  permissions="$permissions${permissions:+,}{\"user\":\"$1\",\"vhost\":\"$vhost\",\"configure\":\"^($(json_string "$3"))\$\",\"write\":\"^($(json_string "$4"))\$\",\"read\":\"^($(json_string "$5"))\$\"}"
  topics="$topics${topics:+,}{\"user\":\"$1\",\"vhost\":\"$vhost\",\"exchange\":\"todo\",\"write\":\"^($(json_string "$6"))\$\",\"read\":\"^($(json_string "$7"))\$\"}"
}

# The web publishes new items and commands (forms; a replayed dead letter goes back on one of these) and asks every
# instance; it reads the dead letters (group deadletters) and answers todo mq deadletters (queue group
# deadletters-admin@admin.deadletters.*); its live lists follow events.todo.> and deadletter.events.todo.newitem.
admin_queue='deadletters-admin@admin\.deadletters\.\*'
user todo-web TODO_WEB_PASSWORD \
  "$topology_configure|$plain_queues|$admin_queue" \
  "$topology_write|$plain_queues|$admin_queue" \
  "$topology_read|$plain_queues|$admin_queue" \
  'events\.todo\.newitem|commands\.todo\.(complete|delete)|diagnostics\.instances|_INBOX\..+' \
  "$every_role_binds|events\\.todo\\.\\*\\.#|deadletter\\.events\\.todo\\.newitem|admin\\.deadletters\\.\\*"

# The API publishes new items and commands, and waits for the save handler's answer (Prefer: wait) in its inbox.
user todo-api TODO_API_PASSWORD \
  "$topology_configure|$plain_queues" \
  "$topology_write|$plain_queues" \
  "$topology_read|$plain_queues" \
  'events\.todo\.newitem|commands\.todo\.(complete|delete)|_INBOX\..+' \
  "$every_role_binds"

# The save handler reads its three groups, retries through their delay queues, announces what it stored, answers
# the API's Prefer: wait, and dead-letters what failed MaxDeliver times.
own='save-handler|complete-item|delete-item'
user save-handler TODO_SAVE_HANDLER_PASSWORD \
  "$topology_configure|$plain_queues|($own)\\.delay\\.[0-9]+" \
  "$topology_write|$plain_queues|($own)\\.delay\\.[0-9]+" \
  "$topology_read|$plain_queues" \
  'events\.todo\.(itemsaved|itemcompleted|itemdeleted)|deadletter\.(events\.todo\.newitem|commands\.todo\.(complete|delete))|_INBOX\..+' \
  "$every_role_binds"

# The audit handler reads its group, retries through its delay queues, and dead-letters what failed.
user audit-handler TODO_AUDIT_HANDLER_PASSWORD \
  "$topology_configure|$plain_queues|audit-handler\\.delay\\.[0-9]+" \
  "$topology_write|$plain_queues|audit-handler\\.delay\\.[0-9]+" \
  "$topology_read|$plain_queues" \
  'deadletter\.events\.todo\.newitem|_INBOX\..+' \
  "$every_role_binds"

# The operator's todo mq deadletters … (answered by the web): requests, and their answers in its inbox.
user admin TODO_ADMIN_PASSWORD \
  "todo|$plain_queues" \
  "todo|$plain_queues" \
  "todo|$plain_queues" \
  'admin\.deadletters\.[a-z]+' \
  '_INBOX\..+'

printf '{"vhosts":[{"name":"%s"}],"users":[%s],"permissions":[%s],"topic_permissions":[%s]}' \
  "$(json_string "$vhost")" "$users" "$permissions" "$topics" | "$ctl" import_definitions --format json
