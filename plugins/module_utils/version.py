# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection version written into every report (kept equal to galaxy.yml by a test)."""

VERSION = "0.1.0"
