#!/bin/sh
# docs_parameters - docs/parameters.md and `hikyaku conf -d` must agree:
# every parameter the program prints is in the docs table with the same
# default, and every name in the table is printed by the program.
#
# Defaults that start with '/' depend on the CMake install prefix, and
# myhostname and mydomain are computed at run time: for those only the
# presence of the name is checked.
#
# Environment: HIKYAKU (the hikyaku binary), SOURCE_DIR (the repository).
set -u
: "${HIKYAKU:?HIKYAKU must name the hikyaku binary}"
: "${SOURCE_DIR:?SOURCE_DIR must name the source tree}"

docs="$SOURCE_DIR/docs/parameters.md"
if [ ! -r "$docs" ]; then
	echo "FAIL: cannot read $docs" >&2
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/hikyaku-docs.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
trap 'exit 1' HUP INT TERM

# A private, empty instance, so that no installed configuration matters.
mkdir "$work/etc" && : >"$work/etc/main.cf" || exit 1
unset MAIL_CONFIG

"$HIKYAKU" -c "$work/etc" conf -d >"$work/conf" 2>"$work/conf.err"
status=$?
if [ "$status" -ne 0 ]; then
	echo "FAIL: $HIKYAKU -c DIR conf -d exited with status $status" >&2
	cat "$work/conf.err" >&2
	exit 1
fi

# Both inputs become lines "name<TAB>value"; problems go to $work/problems.
LC_ALL=C
export LC_ALL

# `conf -d` prints "name = value", or "name =" for an empty value.
awk -v problems="$work/problems" '
	/^[A-Za-z0-9_]+ =$/ { sub(/ =$/, ""); print $0 "\t"; next }
	/^[A-Za-z0-9_]+ = / {
		split_at = index($0, " = ")
		print substr($0, 1, split_at - 1) "\t" substr($0, split_at + 3)
		next
	}
	{ print "conf -d, line " NR ": not \"name = value\": " $0 >>problems }
' "$work/conf" >"$work/conf.tsv"

# Table rows: | `name` | default | type | meaning |. In a cell, "\|" is a
# literal "|"; a default is written `value` or `` value `` (when it holds a
# backtick), or left empty for the empty string.
awk -v problems="$work/problems" '
	function trim(text) {
		sub(/^[ \t]+/, "", text)
		sub(/[ \t]+$/, "", text)
		return text
	}
	!/^\|/ { in_table = 0; next }
	/^\|[ \t]*name[ \t]*\|[ \t]*default[ \t]*\|/ { in_table = 1; next }
	!in_table || /^\|[ \t:|-]*$/ { next }
	{
		line = $0
		gsub(/\\\|/, "\001", line)
		count = split(line, cell, "|")
		if (count < 5) {
			print "docs, line " NR ": expected 4 cells: " $0 >>problems
			next
		}
		name = trim(cell[2])
		if (name ~ /^`[^`]*`$/)
			name = substr(name, 2, length(name) - 2)
		if (name !~ /^[A-Za-z0-9_]+$/) {
			print "docs, line " NR ": bad parameter name: " $0 >>problems
			next
		}
		value = trim(cell[3])
		if (value ~ /^`` .* ``$/)
			value = substr(value, 4, length(value) - 6)
		else if (value ~ /^`[^`]*`$/)
			value = substr(value, 2, length(value) - 2)
		else if (value ~ /`/) {
			print "docs, line " NR ": badly quoted default: " $0 >>problems
			next
		}
		gsub(/\001/, "|", value)
		print name "\t" value
	}
' "$docs" >"$work/docs.tsv"

awk -F '\t' -v problems="$work/problems" '
	FILENAME == ARGV[1] {
		if ($1 in conf)
			print "conf -d prints " $1 " twice" >>problems
		conf[$1] = substr($0, length($1) + 2)
		conf_order[++conf_count] = $1
		next
	}
	{
		if ($1 in docs)
			print "docs list " $1 " twice" >>problems
		docs[$1] = substr($0, length($1) + 2)
		docs_order[++docs_count] = $1
	}
	END {
		for (i = 1; i <= conf_count; i++) {
			name = conf_order[i]
			if (!(name in docs)) {
				print "not in docs: " name " = " conf[name] >>problems
				continue
			}
			if (name == "myhostname" || name == "mydomain")
				continue
			if (substr(conf[name], 1, 1) == "/")
				continue
			if (conf[name] != docs[name])
				print "default of " name ": conf -d prints \"" conf[name] \
				    "\", docs say \"" docs[name] "\"" >>problems
		}
		for (i = 1; i <= docs_count; i++)
			if (!(docs_order[i] in conf))
				print "documented but not printed by conf -d: " \
				    docs_order[i] >>problems
		print conf_count + 0, docs_count + 0
	}
' "$work/conf.tsv" "$work/docs.tsv" >"$work/counts"

read -r conf_count docs_count <"$work/counts"
if [ "$conf_count" -eq 0 ]; then
	echo "conf -d printed no parameters" >>"$work/problems"
fi
if [ -s "$work/problems" ]; then
	echo "FAIL: docs/parameters.md and hikyaku conf -d disagree:" >&2
	sed 's/^/  /' "$work/problems" >&2
	exit 1
fi
echo "docs_parameters: all $conf_count parameters of conf -d are documented with the same default"
exit 0
